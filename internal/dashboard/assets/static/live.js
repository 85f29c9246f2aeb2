// The spawn dashboard's one script: every two seconds, while "live" is
// ticked and the page is visible, it reads the page again and puts the new
// content of its live parts (the elements marked data-live) in place of
// the old. Parts with the keyboard's focus in them are left alone.
(function () {
  "use strict";
  var box = document.getElementById("live");
  var status = document.getElementById("live-status");
  var busy = false;
  function say(text) { if (status) status.textContent = text; }
  function refresh() {
    if (busy || !box || !box.checked || document.hidden) return;
    busy = true;
    // The answer to a form is read again from the page the form was on.
    var url = document.body.dataset.liveUrl || location.href;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (!res.ok) throw new Error(res.status + " " + res.statusText);
        return res.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh || el.contains(document.activeElement)) return;
          if (fresh.innerHTML !== el.innerHTML) el.replaceWith(document.importNode(fresh, true));
        });
        say("");
      })
      .catch(function (err) { say("(not reachable: " + err.message + ")"); })
      .finally(function () { busy = false; });
  }
  if (box) {
    box.checked = localStorage.getItem("spawn-dashboard-live") !== "off";
    box.addEventListener("change", function () {
      localStorage.setItem("spawn-dashboard-live", box.checked ? "on" : "off");
      if (box.checked) refresh();
    });
  }
  setInterval(refresh, 2000);
})();
