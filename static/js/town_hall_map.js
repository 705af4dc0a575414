/* The small map of a town-hall page: Leaflet with OpenStreetMap tiles, one marker.
 *
 * Progressive enhancement: the map element is hidden in the HTML and shown only once Leaflet is loaded;
 * the page (address, "Voir sur une carte" link) is complete without it. No inline code: CSP-strict. */
(function () {
  "use strict";

  function init() {
    var element = document.getElementById("town-hall-map");
    if (!element || typeof window.L === "undefined") {
      return;
    }
    var lat = parseFloat(element.dataset.lat);
    var lon = parseFloat(element.dataset.lon);
    if (!isFinite(lat) || !isFinite(lon)) {
      return;
    }
    element.hidden = false;
    var map = window.L.map(element, { scrollWheelZoom: false }).setView([lat, lon], 16);
    window.L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19,
      attribution:
        '<a href="https://www.openstreetmap.org/copyright" rel="external">' +
        escapeHtml(element.dataset.attribution || "© OpenStreetMap") +
        "</a>",
    }).addTo(map);
    // A circle marker needs no image, so nothing depends on Leaflet's icon path detection.
    window.L.circleMarker([lat, lon], {
      radius: 9,
      color: "#000091",
      weight: 3,
      fillColor: "#000091",
      fillOpacity: 0.35,
    })
      .addTo(map)
      .bindTooltip(escapeHtml(element.dataset.name || ""));
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
