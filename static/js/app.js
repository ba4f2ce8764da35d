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
  document.addEventListener("DOMContentLoaded", function () {
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
