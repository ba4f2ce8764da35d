// The phone call page: as the operator types what the caller said, ask the server what understanding
// reads (POST /calls/understand, same origin) and pre-fill category and place, unless the operator has
// chosen them. Without this script the «خواندن متن» button does the same in a round trip.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-understand]");
    if (!form) { return; }
    var text = form.querySelector("textarea[name=text]");
    var category = form.querySelector("select[name=category]");
    var place = form.querySelector("input[name=neighbourhood]");
    var note = document.getElementById("call-live");
    var token = form.querySelector("input[name=csrf_token]").value;
    var timer = null;
    [category, place].forEach(function (field) {
      field.addEventListener("input", function () { field.setAttribute("data-chosen", "1"); });
      field.addEventListener("change", function () { field.setAttribute("data-chosen", "1"); });
    });
    function ask() {
      fetch(form.getAttribute("data-understand"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
        body: JSON.stringify({ text: text.value, category: category.getAttribute("data-chosen") ? category.value : "",
                               neighbourhood: place.getAttribute("data-chosen") ? place.value : "" })
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
        if (!d) { return; }
        if (!category.getAttribute("data-chosen") && d.category) { category.value = d.category; }
        if (!place.getAttribute("data-chosen")) { place.value = d.neighbourhood || ""; }
        if (note) {
          var parts = [];
          if (d.emergency) { parts.push("فوری: تماس‌گیرنده را به " + (d.emergency_service || "125").replace(/[0-9]/g, function (c) { return "۰۱۲۳۴۵۶۷۸۹"[+c]; }) + " راهنمایی کنید."); }
          if (d.identity_bound) { parts.push("نیاز به احراز هویت دارد و ثبت نمی‌شود."); }
          if (d.region_label) { parts.push(d.region_label); }
          note.textContent = parts.join(" · ");
        }
      }).catch(function () { /* the button still works */ });
    }
    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 500);
    });
  });
})();
