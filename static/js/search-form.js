/*
 * The search form's enhancements (templates/slots/_search_form.html); the form works without them.
 *
 * - Commune autocomplete, an ARIA 1.2 combobox: htmx fetches /autocomplete as the user types and fills
 *   #q-listbox (and, out of band, the live region #q-status); this script opens and closes the list and
 *   handles the keyboard (Down/Up to move, Enter to pick, Escape to close) and the mouse. Picking a
 *   commune puts its name in the field and its INSEE code in the hidden `insee` field.
 * - "Autour de moi": the browser's position in the hidden lat/lon fields, then the form is submitted.
 * - After htmx swaps the results for a link (sort, wider search), the form follows the new URL.
 *
 * Listeners are delegated to the document so that they survive htmx swaps and history restores.
 */
(function () {
  "use strict";

  var FIELD_ID = "id_q";
  var LISTBOX_ID = "q-listbox";

  function field() {
    return document.getElementById(FIELD_ID);
  }

  function listbox() {
    return document.getElementById(LISTBOX_ID);
  }

  function hiddenInput(form, name) {
    return form ? form.querySelector('input[type="hidden"][name="' + name + '"]') : null;
  }

  // Empty hidden fields are disabled so that they stay out of the URL.
  function setHidden(form, name, value) {
    var input = hiddenInput(form, name);
    if (!input) return;
    input.value = value;
    input.disabled = value === "";
  }

  // ---------------------------------------------------------------------------------------------
  // Autocomplete
  // ---------------------------------------------------------------------------------------------

  var justPicked = false; // a late answer must not reopen the list over the commune just picked

  function options() {
    var list = listbox();
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }

  function isOpen() {
    var list = listbox();
    return !!list && !list.hidden;
  }

  function open() {
    var input = field();
    var list = listbox();
    if (!input || !list || options().length === 0) return;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close() {
    var input = field();
    var list = listbox();
    if (list) list.hidden = true;
    if (input) {
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    options().forEach(function (option) {
      option.setAttribute("aria-selected", "false");
    });
  }

  function activeIndex() {
    var input = field();
    var id = input && input.getAttribute("aria-activedescendant");
    if (!id) return -1;
    return options().findIndex(function (option) {
      return option.id === id;
    });
  }

  function activate(index) {
    var input = field();
    var all = options();
    if (!input || all.length === 0) return;
    index = (index + all.length) % all.length;
    all.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }

  function pick(option) {
    var input = field();
    if (!input || !option) return;
    var form = input.form;
    input.value = option.getAttribute("data-value");
    setHidden(form, "insee", option.getAttribute("data-insee") || "");
    setHidden(form, "lat", "");
    setHidden(form, "lon", "");
    justPicked = true;
    if (window.htmx) window.htmx.trigger(input, "htmx:abort");
    close();
    var status = document.getElementById("q-status");
    if (status) status.textContent = "";
    input.focus();
  }

  document.addEventListener("keydown", function (event) {
    var input = field();
    if (!input || event.target !== input) return;
    var key = event.key;
    if (key === "ArrowDown" || key === "Down") {
      event.preventDefault();
      if (!isOpen()) {
        open();
        if (isOpen()) activate(0);
      } else {
        activate(activeIndex() + 1);
      }
    } else if (key === "ArrowUp" || key === "Up") {
      if (!isOpen()) return;
      event.preventDefault();
      activate(activeIndex() <= 0 ? options().length - 1 : activeIndex() - 1);
    } else if (key === "Enter") {
      if (isOpen() && activeIndex() >= 0) {
        event.preventDefault(); // pick, do not submit yet
        pick(options()[activeIndex()]);
      } else {
        close();
      }
    } else if (key === "Escape" || key === "Esc") {
      if (isOpen()) {
        event.preventDefault();
        close();
      }
    } else if (key === "Tab") {
      close();
    }
  });

  document.addEventListener("input", function (event) {
    var input = field();
    if (!input || event.target !== input) return;
    // Typing again: the commune picked and the position no longer apply.
    justPicked = false;
    setHidden(input.form, "insee", "");
    setHidden(input.form, "lat", "");
    setHidden(input.form, "lon", "");
    if (input.value.trim() === "") close();
  });

  // mousedown rather than click: the field keeps the focus, so the list is not closed by the blur first.
  document.addEventListener("mousedown", function (event) {
    var option = event.target.closest && event.target.closest("#" + LISTBOX_ID + ' [role="option"]');
    if (option) {
      event.preventDefault();
      pick(option);
    }
  });

  document.addEventListener("focusout", function (event) {
    if (event.target === field()) close();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = listbox();
    if (!list || event.detail.target !== list) return;
    var input = field();
    if (!justPicked && options().length > 0 && document.activeElement === input) {
      open();
    } else {
      close();
    }
  });

  // ---------------------------------------------------------------------------------------------
  // "Autour de moi"
  // ---------------------------------------------------------------------------------------------

  function say(button, message) {
    var status = document.getElementById("geo-status");
    if (status) status.textContent = button.getAttribute("data-" + message) || "";
  }

  function locate(button) {
    if (!("geolocation" in navigator)) {
      say(button, "unsupported");
      return;
    }
    say(button, "locating");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        button.disabled = false;
        var form = button.form;
        var input = field();
        if (input) input.value = "";
        close();
        setHidden(form, "insee", "");
        // About ten metres: plenty for a search by radius, no more precise than needed.
        setHidden(form, "lat", position.coords.latitude.toFixed(4));
        setHidden(form, "lon", position.coords.longitude.toFixed(4));
        say(button, "found");
        if (typeof form.requestSubmit === "function") form.requestSubmit();
        else form.submit();
      },
      function (error) {
        button.disabled = false;
        if (error.code === 1) say(button, "denied");
        else if (error.code === 3) say(button, "timeout");
        else say(button, "unavailable");
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
    );
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("#geo-button");
    if (button) locate(button);
  });

  // ---------------------------------------------------------------------------------------------
  // The form follows the URL pushed by a results link (sort, wider search)
  // ---------------------------------------------------------------------------------------------

  function followUrl(form, url) {
    var params = new URL(url, window.location.href).searchParams;
    ["q", "motif", "personnes", "rayon", "avant", "tri", "insee", "lat", "lon"].forEach(function (name) {
      var element = form.elements.namedItem(name);
      if (!element || element instanceof RadioNodeList) return;
      var value = params.get(name);
      if (element.type === "hidden") {
        setHidden(form, name, value || "");
      } else if (element.tagName === "SELECT") {
        if (value !== null) element.value = value;
      } else {
        element.value = value || "";
      }
    });
  }

  document.addEventListener("htmx:pushedIntoHistory", function (event) {
    var form = document.getElementById("search-form");
    if (form && event.detail && event.detail.path) followUrl(form, event.detail.path);
  });

  // ---------------------------------------------------------------------------------------------
  // Results swaps: busy while loading; focus kept when the link used is replaced
  // ---------------------------------------------------------------------------------------------

  var triggeredFromResults = false;
  var triggeredFromForm = false;

  function isResultsSwap(event) {
    var target = event.detail && event.detail.target;
    return !!target && target.id === "results-body";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isResultsSwap(event)) return;
    var elt = event.detail.elt;
    triggeredFromResults = !!(elt && elt.closest && elt.closest("#results-body"));
    triggeredFromForm = !!(elt && elt.id === "search-form");
    var results = document.getElementById("results");
    if (results) results.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isResultsSwap(event)) return;
    var results = document.getElementById("results");
    if (results) results.removeAttribute("aria-busy");
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (triggeredFromForm) {
      triggeredFromForm = false;
      // A search sent again from the form (on a phone, the results start a screen or more below it): show
      // them, as the page loaded without JavaScript does with its #results anchor.
      var results = document.getElementById("results");
      if (results && results.getBoundingClientRect().top > window.innerHeight * 0.5) {
        results.scrollIntoView({ block: "start" });
      }
      return;
    }
    if (!triggeredFromResults) return;
    triggeredFromResults = false;
    // The sort or wider-search link just used is gone: continue from the new results' heading.
    var heading = document.getElementById("results-title");
    var active = document.activeElement;
    if (heading && (!active || active === document.body || !document.body.contains(active))) {
      heading.focus();
    }
  });

  // The enhancements exist only with JavaScript: show them now.
  function enhance() {
    var button = document.getElementById("geo-button");
    if (button) button.hidden = false;
    var input = field();
    if (input) input.setAttribute("aria-describedby", "q-hint");
  }

  if (window.htmx) window.htmx.onLoad(enhance);
  else document.addEventListener("DOMContentLoaded", enhance);
})();
