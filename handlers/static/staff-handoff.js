/* The staff thread page, live: new messages and the thread's status appear without a reload.
 * Polls /staff/api/handoffs/{id}/messages (same-origin, the staff cookie) every 3 seconds. Text is set
 * with textContent only. */
(function () {
  "use strict";
  var thread = document.getElementById("thread");
  if (!thread) return;
  var id = thread.getAttribute("data-id");
  var after = Number(thread.getAttribute("data-after") || 0);
  var LABEL = { applicant: "申请人", staff: "工作人员 ", system: "系统" };
  var STATUS = { open: "待认领", claimed: "处理中", closed: "已结束" };

  function add(m) {
    var empty = document.getElementById("thread-empty");
    if (empty) empty.remove();
    var box = document.createElement("div");
    box.className = "msg " + m.role;
    box.setAttribute("data-id", String(m.id));
    var who = document.createElement("strong");
    who.textContent = (LABEL[m.role] || m.role) + (m.role === "staff" ? m.author : "");
    var when = document.createElement("span");
    when.className = "muted";
    when.textContent = " " + String(m.at || "").replace("T", " ").slice(0, 16);
    var text = document.createElement("div");
    text.className = "answer";
    text.textContent = m.text;
    box.appendChild(who);
    box.appendChild(when);
    box.appendChild(text);
    thread.appendChild(box);
  }

  function poll() {
    fetch("/staff/api/handoffs/" + encodeURIComponent(id) + "/messages?after=" + after, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) {
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        (data.messages || []).forEach(function (m) {
          if (m.id > after) {
            after = m.id;
            add(m);
          }
        });
        var pill = document.getElementById("handoff-status");
        if (pill && STATUS[data.status]) pill.textContent = STATUS[data.status];
      })
      .catch(function () {
        /* offline for a moment: the next round tries again */
      });
  }

  setInterval(poll, 3000);
})();
