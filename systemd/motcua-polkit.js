// motcua box: let the box's own user (the technician console's restart buttons, run by
// motcua-edge-web.service as user motcua) start, stop and restart motcua's services, and
// nothing else. Installed by systemd/install.sh as /etc/polkit-1/rules.d/50-motcua.rules
// (polkitd >= 0.106 JavaScript rules; Debian 12 has 122).
polkit.addRule(function (action, subject) {
    if (action.id !== "org.freedesktop.systemd1.manage-units" || subject.user !== "motcua") {
        return polkit.Result.NOT_HANDLED;
    }
    var unit = action.lookup("unit");
    var verb = action.lookup("verb");
    var ours = /^motcua-(edge-web|edge-worker|devices|kiosk)\.service$/;
    if (unit && ours.test(unit) &&
        ["start", "stop", "restart", "try-restart"].indexOf(verb) >= 0) {
        return polkit.Result.YES;
    }
    return polkit.Result.NOT_HANDLED;
});
