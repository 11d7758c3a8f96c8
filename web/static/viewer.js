// The document viewer beside the decision form: choosing a document shows it in place (without script, the
// picker's button reloads the page with ?view=<id>).
(function () {
  "use strict";
  var choice = document.getElementById("viewer-choice");
  if (!choice) return;
  var frame = document.getElementById("viewer-document");
  var none = document.getElementById("viewer-none");
  var open = document.getElementById("viewer-open");
  var download = document.getElementById("viewer-download");
  var links = document.getElementById("viewer-links");
  var button = document.querySelector("#viewer .viewer-show");
  if (button) button.style.display = "none";
  choice.addEventListener("change", function () {
    var option = choice.options[choice.selectedIndex];
    var view = option.getAttribute("data-view");
    var file = option.getAttribute("data-download");
    frame.title = option.textContent;
    if (view) {
      frame.src = view;
      frame.hidden = false;
      none.hidden = true;
    } else {
      frame.removeAttribute("src");
      frame.hidden = true;
      none.hidden = false;
    }
    none.textContent = none.getAttribute("data-cannot") || none.textContent;
    open.href = view || file;
    download.href = file;
    links.hidden = false;
  });
})();
