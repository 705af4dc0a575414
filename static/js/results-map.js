/*
 * The results map (templates/slots/search.html, partial "map"): Leaflet from static/vendor, OpenStreetMap
 * tiles, a marker per town hall with a popup (name, next slot, booking link, link to the list entry) and
 * the search origin. Its data comes from the #results-map-data json_script element.
 *
 * The map lives in a <details> panel: open at first on wide screens, closed behind "Voir la carte" on
 * phones, and drawn only once open (no tiles downloaded otherwise). After every htmx swap of the results
 * (or history restore) the new panel gets a new map; the old one is removed.
 */
(function () {
  "use strict";

  var TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  var ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>';
  var WIDE = "(min-width: 48rem)";

  var current = { panel: null, map: null };
  var closedByUser = false; // remembered across swaps while the page lives, never stored

  function readData() {
    var element = document.getElementById("results-map-data");
    if (!element) return null;
    try {
      return JSON.parse(element.textContent);
    } catch (error) {
      return null;
    }
  }

  function popupContent(point, labels) {
    var root = document.createElement("div");
    root.className = "map-popup";
    var name = document.createElement("strong");
    name.textContent = point.name;
    root.appendChild(name);
    var when = document.createElement("p");
    when.textContent = point.next ? labels.next + " " + point.next : labels.none;
    root.appendChild(when);
    var links = document.createElement("p");
    if (point.next && point.url) {
      var book = document.createElement("a");
      book.href = point.url;
      book.target = "_blank";
      book.rel = "noopener external";
      book.textContent = labels.book;
      var hint = document.createElement("span");
      hint.className = "visually-hidden";
      hint.textContent = " " + labels.newTab;
      book.appendChild(hint);
      links.appendChild(book);
      links.appendChild(document.createTextNode(" · "));
    }
    var list = document.createElement("a");
    list.href = "#mairie-" + point.id;
    list.textContent = labels.list;
    links.appendChild(list);
    root.appendChild(links);
    return root;
  }

  function draw(panel) {
    var data = readData();
    var container = panel.querySelector(".results-map");
    if (!data || !container || typeof L === "undefined") return;
    var map = L.map(container, { scrollWheelZoom: false });
    L.tileLayer(TILES, { maxZoom: 19, attribution: ATTRIBUTION }).addTo(map);

    // Popups narrower than the map, so that a phone shows them whole.
    var popupOptions = { maxWidth: Math.max(160, Math.min(300, container.clientWidth - 80)) };
    var bounds = [[data.origin.lat, data.origin.lon]];
    L.circleMarker([data.origin.lat, data.origin.lon], {
      radius: 8,
      color: "#b3261e",
      weight: 3,
      fillColor: "#ffffff",
      fillOpacity: 1,
    })
      .bindPopup(document.createTextNode(data.labels.origin), popupOptions)
      .addTo(map);

    data.points.forEach(function (point) {
      var latlng = [point.lat, point.lon];
      bounds.push(latlng);
      var marker = point.next
        ? L.marker(latlng, { title: point.name, alt: point.name })
        : L.circleMarker(latlng, { radius: 7, color: "#555555", weight: 2, fillColor: "#d0d4da", fillOpacity: 1 });
      marker.bindPopup(popupContent(point, data.labels), popupOptions).addTo(map);
    });

    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 });
    else map.setView(bounds[0], 12);
    current.map = map;
  }

  function setup() {
    var panel = document.getElementById("results-map-panel");
    if (panel === current.panel) return;
    if (current.map) {
      current.map.remove();
      current.map = null;
    }
    current.panel = panel;
    if (!panel) return;
    panel.hidden = false;
    panel.addEventListener("toggle", function () {
      if (panel !== current.panel) return;
      if (panel.open && !current.map) draw(panel);
      else if (panel.open) current.map.invalidateSize();
      // Only a choice made on a wide screen carries over to the next results.
      if (window.matchMedia(WIDE).matches) closedByUser = !panel.open;
    });
    if (window.matchMedia(WIDE).matches && !closedByUser) panel.open = true; // fires "toggle": draws
  }

  if (window.htmx) {
    window.htmx.onLoad(setup);
    document.addEventListener("htmx:historyRestore", setup);
  } else {
    document.addEventListener("DOMContentLoaded", setup);
  }
})();
