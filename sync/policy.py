"""Who may write a replicated table, and how concurrent writes combine.

Ownership decides first, clocks second:
- BOX: written by the commune's box only (tickets, counters); applied in the box's order.
- HUB: written by the hub only (catalog, holidays); boxes receive them.
- APPEND: inserted once by anyone in scope, never changed (ratings, events).
- SHARED: box and hub both edit; per-field last-writer-wins by HLC, node id breaks ties,
  and every concurrently overwritten value is kept as a conflict.
"""
BOX, HUB, APPEND, SHARED = "box", "hub", "append", "shared"
POLICIES = (BOX, HUB, APPEND, SHARED)
GLOBAL_SCOPE = "*"  # rows every box receives (e.g. holidays)
HUB_NODE = "hub"


def may_write(policy, writer_is_hub, op):
    """Whether a node of this kind may send ``op`` on a table with ``policy``; else the reason."""
    if policy == HUB and not writer_is_hub:
        return "bảng do trung tâm quản lý, hộp không được ghi"
    if policy == BOX and writer_is_hub:
        return "bảng do hộp của xã quản lý, trung tâm không được ghi"
    if policy in (APPEND, SHARED) and op == "delete":
        return "bảng chỉ thêm hoặc dùng chung không cho xoá dòng"
    if policy == APPEND and op != "insert":
        return "bảng chỉ thêm không cho sửa dòng"
    return None
