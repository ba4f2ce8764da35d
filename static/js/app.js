// Small helpers for the dashboard. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  var FA = "۰۱۲۳۴۵۶۷۸۹";
  function fa(n) { return String(n).replace(/[0-9]/g, function (d) { return FA[+d]; }); }
  // GSM 03.38 basic set and extension; anything else (every Persian letter) makes the SMS UCS-2.
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€";
  function segments(text) {
    var gsm = true, units = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (GSM.indexOf(c) >= 0) { units += 1; } else if (GSM_EXT.indexOf(c) >= 0) { units += 2; } else { gsm = false; break; }
    }
    if (!gsm) {
      units = text.length;  // UTF-16 code units, as UCS-2 counts them
      return { chars: units, parts: units === 0 ? 0 : units <= 70 ? 1 : Math.ceil(units / 67), per: units <= 70 ? 70 : 67 };
    }
    return { chars: units, parts: units === 0 ? 0 : units <= 160 ? 1 : Math.ceil(units / 153), per: units <= 160 ? 160 : 153 };
  }
  function bindCounter(area) {
    var out = document.getElementById(area.getAttribute("data-segments"));
    if (!out) { return; }
    var max = parseInt(area.getAttribute("data-max") || "0", 10);
    function update() {
      var s = segments(area.value.replace(/\s+/g, " ").trim());
      if (max) {  // a reason that must reach the citizen whole: characters left, not parts
        out.textContent = fa(s.chars) + " از " + fa(max) + " نویسه";
        out.classList.toggle("over", s.chars > max);
        return;
      }
      out.textContent = fa(s.chars) + " نویسه · " + fa(s.parts) + " پیامک" + (s.parts > 1 ? " (هر بخش " + fa(s.per) + " نویسه)" : "");
      out.classList.toggle("over", s.parts > 2);
    }
    area.addEventListener("input", update);
    update();
  }
  // The live queue: every 10 s ask the same origin what changed since the last answer; new and changed
  // rows come back rendered by the server, emergencies no one has taken go to the pinned rows on top.
  function liveQueue(table) {
    var url = table.getAttribute("data-live"), since = table.getAttribute("data-since");
    var pinned = table.querySelector("tbody.pinned"), rows = table.querySelector("tbody.rows");
    var note = document.getElementById("live-note"), empty = document.querySelector("p.empty"), fresh = 0;
    function place(row) {
      var old = table.querySelector('tr[data-code="' + row.code + '"]');
      if (old && old.getAttribute("data-updated") === row.updated) { return; }
      var holder = document.createElement("tbody");
      holder.innerHTML = row.html;
      var tr = holder.firstElementChild, target = row.pinned ? pinned : rows;
      if (old) {
        tr.querySelector("input[name=codes]").checked = old.querySelector("input[name=codes]").checked;
        if (old.parentNode === target) { old.parentNode.replaceChild(tr, old); return; }
        old.parentNode.removeChild(old);
      } else {
        fresh += 1;
      }
      tr.classList.add("fresh");
      target.insertBefore(tr, target.firstChild);
    }
    function poll() {
      var sep = url.indexOf("?") >= 0 ? "&" : "?";
      return fetch(url + sep + "since=" + encodeURIComponent(since), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          since = data.mark;
          data.rows.forEach(place);
          if (fresh && note) { note.hidden = false; note.textContent = fa(fresh) + " درخواست یا پیام تازه رسید."; }
          if (empty && (pinned.rows.length || rows.rows.length)) { empty.hidden = true; }
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ });
    }
    setInterval(poll, 10000);
    window.smsLiveQueue = { poll: poll };
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.queue[data-live]"), liveQueue);
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-segments]"), bindCounter);
    Array.prototype.forEach.call(document.querySelectorAll("select[data-canned]"), function (select) {
      select.addEventListener("change", function () {
        var area = select.form.querySelector("textarea[name=body]");
        if (select.value && area) { area.value = select.value; area.dispatchEvent(new Event("input")); area.focus(); }
        select.value = "";
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("form[data-autosubmit]"), function (form) {
      Array.prototype.forEach.call(form.querySelectorAll("select, input[type=checkbox]"), function (field) {
        field.addEventListener("change", function () { form.submit(); });
      });
    });
  });
  window.smsSegments = segments;
})();
