// SPDX-License-Identifier: GPL-2.0-or-later
//
// KWin script: tells the memadvise session agent (memadvise-session(1),
// interface org.memadvise.Session1 on the session bus) which app has
// focus. The app that loses the active window is backgrounded, the one
// that gains it foregrounded. Apps are named by their desktop file name,
// which is the application id in their systemd unit name.

const SERVICE = "org.memadvise.Session1";
const PATH = "/org/memadvise/Session1";
const INTERFACE = "org.memadvise.Session1";

let current = "";

function appId(window) {
    if (!window || window.specialWindow)
        return "";
    return window.desktopFileName || "";
}

function activated(window) {
    const id = appId(window);
    if (id === current)
        return;
    if (current !== "")
        callDBus(SERVICE, PATH, INTERFACE, "AppBackgrounded", current);
    if (id !== "")
        callDBus(SERVICE, PATH, INTERFACE, "AppForegrounded", id);
    current = id;
}

// Plasma 6 names them windowActivated/activeWindow, Plasma 5
// clientActivated/activeClient.
if (workspace.windowActivated !== undefined) {
    workspace.windowActivated.connect(activated);
    activated(workspace.activeWindow);
} else {
    workspace.clientActivated.connect(activated);
    activated(workspace.activeClient);
}
