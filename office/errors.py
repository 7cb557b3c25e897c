"""The one error type of the product.

Domain code raises ``MotcuaError`` with a Vietnamese message meant for the person in
front of the screen; the web layer turns it into an HTML page or the fixed JSON shape.
"""


class MotcuaError(Exception):
    status = 400

    def __init__(self, message, status=None, detail=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.detail = detail

    def to_dict(self):
        body = {"ok": False, "error": self.message, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        return body


class NotFound(MotcuaError):
    status = 404


class Conflict(MotcuaError):
    status = 409
