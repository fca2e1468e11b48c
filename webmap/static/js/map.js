/* 网巡 map layers: fills the empty Folium layers from the JSON APIs by bounding box.
 *
 * Everything arrives already converted to the tiles' coordinate system by the server. Venues come
 * either as per-category cluster bubbles computed on the server (zoomed out over many venues) or as
 * column-wise points that go into leaflet.markercluster groups with addLayers() in chunks; markers
 * share one icon object per (category, grade). Popups are fetched on click (and audited server-side).
 * window.wangxunState.ready turns true once every layer has loaded (tests and the benchmark wait on it);
 * readyAt is milliseconds since navigation.
 */
(function () {
  "use strict";

  var state = window.wangxunState = {ready: false, venues: 0, hits: 0, grids: 0, errors: [], loads: 0, timing: {}};
  var t0 = performance.now();
  function mark(name) { state.timing[name] = Math.round(performance.now() - t0); }

  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  // The page's language: the map page puts {message id: text} in <script id="wx-strings"> (webmap/i18n.py
  // js_strings: every tr("…") id of this file and the vocabulary's names). Ids are the Chinese texts, so
  // an id the page did not send shows as itself. Text from tr() is not HTML: esc() it like data.
  var STRINGS = (function () {
    var el = document.getElementById("wx-strings");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })();
  function tr(id, params) {
    var text = STRINGS[id] || id;
    return !params ? text : text.replace(/%\((\w+)\)s/g, function (m, k) {
      return params[k] === undefined ? m : String(params[k]);
    });
  }

  function countIcon(className, count) {
    var size = count < 10 ? 30 : count < 100 ? 36 : 42;
    return L.divIcon({className: className, html: "<span><b>" + count + "</b></span>", iconSize: [size, size]});
  }

  function withParams(url, params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      if (params[k] !== null && params[k] !== undefined && params[k] !== "") {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
      }
    });
    var q = parts.join("&");
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + q;
  }

  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          var err = new Error(body.error || ("HTTP " + r.status));
          err.status = r.status;
          throw err;
        });
      }
      return r.json();
    });
  }

  function Layers(map, layers) {
    this.map = map;
    this.o = layers.options;
    this.venueGroups = layers.venueGroups;
    this.hitCluster = layers.hitCluster;
    this.hitHeat = layers.hitHeat;
    this.gridHits = layers.gridHits;
    this.gridDShare = layers.gridDShare;
    this.tiles = layers.tiles || [];
    this.offline = layers.offline;
    this.icons = {};
    // Hit clusters in the hits' own colour, never the plugin's green/yellow/orange (which read as grades).
    this.hitCluster.options.iconCreateFunction = function (cluster) { return countIcon("wx-hcluster", cluster.getChildCount()); };
    this.loaded = {venues: null, hits: null};
    this.status = this.addStatus();
  }

  Layers.prototype.addStatus = function () {
    var box = L.control({position: "topleft"});
    box.onAdd = function () {
      var d = L.DomUtil.create("div", "wx-status");
      d.textContent = tr("加载中…");
      return d;
    };
    box.addTo(this.map);
    return box.getContainer();
  };

  Layers.prototype.showStatus = function () {
    var text = tr("视野内：网格 %(grids)s · 场所 %(venues)s · 线索 %(hits)s", state);
    if (this.truncated) { text += tr("（数量过多，请放大或筛选）"); }
    if (state.errors.length) { text += " · " + state.errors[state.errors.length - 1]; }
    this.status.textContent = text;
  };

  Layers.prototype.fail = function (what, err) {
    state.errors.push(tr("%(what)s加载失败：%(error)s", {what: what, error: err.message}));
    this.showStatus();
  };

  // ------------------------------------------------------------------ grids (two choropleths)

  Layers.prototype.loadGrids = function () {
    var self = this;
    return getJSON(withParams(this.o.urls.grids, this.o.query)).then(function (fc) {
      mark("gridsFetched");
      state.grids = fc.features.length;
      self.showTotals(fc.features);
      self.gridData = fc;
      self.drawGrids(self.gridHits, "fill_hits");
      self.gridDShare.clearLayers();
      self.gridDShareDrawn = false;
      if (!self.gridsWired) {
        self.gridsWired = true;
        self.map.on("overlayadd", function (e) {  // the two colourings are alternatives
          if (e.layer === self.gridHits && self.map.hasLayer(self.gridDShare)) { self.map.removeLayer(self.gridDShare); }
          if (e.layer === self.gridDShare) {
            if (self.map.hasLayer(self.gridHits)) { self.map.removeLayer(self.gridHits); }
            if (!self.gridDShareDrawn) { self.drawGrids(self.gridDShare, "fill_d_share"); }
          }
        });
      }
    }).catch(function (err) { self.fail(tr("网格"), err); });
  };

  // Polygons go on one canvas (1,000 SVG paths cost seconds on a slow machine); the second colouring
  // is drawn the first time it is switched on.
  Layers.prototype.drawGrids = function (group, fillKey) {
    var self = this, fc = this.gridData, permanent = fc.features.length <= 30;
    if (fillKey === "fill_d_share") { this.gridDShareDrawn = true; }
    this.gridRenderer = this.gridRenderer || L.canvas({padding: 0.3});
    group.clearLayers();
    group.addLayer(L.geoJSON(fc, {
      renderer: this.gridRenderer,
      style: function (f) { return {color: "#1f3b5c", weight: 1.5, fillColor: f.properties[fillKey], fillOpacity: 0.45}; },
      onEachFeature: function (f, layer) { self.bindGrid(f.properties, layer, permanent); }
    }));
  };

  Layers.prototype.showTotals = function (features) {
    var el = document.getElementById("wx-totals");
    if (!el) { return; }
    var t = {venues: 0, d_venues: 0, hits: 0};
    features.forEach(function (f) { t.venues += f.properties.venues; t.d_venues += f.properties.d_venues; t.hits += f.properties.hits; });
    el.textContent = tr("场所 %(venues)s 家（D级 %(d_venues)s）· 在线线索 %(hits)s 条", t);
  };

  Layers.prototype.bindGrid = function (p, layer, permanent) {
    layer.bindTooltip(esc(p.name) + "<br><small>" + esc(p.code) + "</small>",
                      {permanent: permanent, direction: "center", className: "wx-grid-label"});
    layer.bindPopup("<b>" + esc(p.name) + "</b>" + esc(tr("（")) + esc(p.code) + esc(tr("）")) + "<br>" +
      esc(tr("网格员：")) + esc(p.manager || "—") +
      "<br>" + esc(tr("场所 %(venues)s 家，D级 %(d_venues)s 家（%(share)s%）",
                      {venues: p.venues, d_venues: p.d_venues, share: Math.round(p.d_share * 100)})) +
      "<br>" + esc(tr("在线线索 %(hits)s 条", p)) +
      "<br><a href=\"" + esc(this.o.urls.gridMap.replace("/0", "/" + p.id)) + "\">" + esc(tr("查看本网格地图")) + "</a>");
  };

  // ------------------------------------------------------------------ venues

  Layers.prototype.venueIcon = function (category, grade) {
    var key = category + "|" + grade;
    var icon = this.icons[key];
    if (!icon) {
      var color = this.o.gradeColors[grade || "none"];
      var glyph = this.o.glyphs[category] || "场";
      icon = this.icons[key] = L.divIcon({
        className: "wx-venue",
        html: "<span style=\"background:" + color + "\">" + esc(glyph) + "</span>",
        iconSize: [22, 22], iconAnchor: [11, 11], popupAnchor: [0, -10]
      });
    }
    return icon;
  };

  // The server answers with every venue in view ("points") or, when there are more than its
  // cluster_above setting, with per-category cluster bubbles computed in SQL ("clusters").
  Layers.prototype.loadVenues = function () {
    var self = this, bounds = this.map.getBounds().pad(0.3), zoom = this.map.getZoom();
    var url = withParams(this.o.urls.venues, Object.assign({bbox: bounds.toBBoxString(), zoom: zoom}, this.o.query));
    return getJSON(url).then(function (data) {
      mark("venuesFetched");
      self.loaded.venues = {bounds: bounds, zoom: zoom, mode: data.mode, truncated: data.truncated};
      self.truncated = data.truncated;
      var byCat = self.groupVenues(data);
      state.venues = data.count;
      state.venueMode = data.mode;
      mark("venueMarkers");
      return Promise.all(Object.keys(self.venueGroups).map(function (cat) {
        var holder = self.venueGroups[cat];
        holder.clearLayers();
        if (data.mode === "clusters") {
          holder.addLayer(L.layerGroup(byCat[cat] || []));
          return Promise.resolve();
        }
        var cluster = L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 60, disableClusteringAtZoom: 18,
                                            iconCreateFunction: self.venueClusterIcon.bind(self)});
        cluster.on("click", function (e) { self.openPopup(e.layer); });
        holder.addLayer(cluster);
        return self.fill(cluster, byCat[cat] || []);
      })).then(function () { mark("venuesShown"); });
    }).catch(function (err) { self.fail(tr("场所"), err); });
  };

  Layers.prototype.groupVenues = function (data) {
    var byCat = {}, cats = data.categories, i, m;
    cats.forEach(function (c) { byCat[c] = []; });
    if (data.mode === "clusters") {
      for (i = 0; i < data.rows.length; i++) {
        var r = data.rows[i];
        m = L.marker([r[1], r[0]], {icon: this.bubbleIcon(cats[r[3]], r[4], r[2]), keyboard: false});
        m.wx = {kind: "bubble", bounds: [[r[6], r[5]], [r[8], r[7]]], count: r[2]};
        m.on("click", this.zoomToBubble, this);
        byCat[cats[r[3]]].push(m);
      }
      return byCat;
    }
    for (i = 0; i < data.count; i++) {
      var cat = cats[data.category.charCodeAt(i) - 48], grade = data.grade.charAt(i);
      if (grade === "-") { grade = null; }
      m = L.marker([data.lat[i] / data.scale, data.lon[i] / data.scale], {icon: this.venueIcon(cat, grade), keyboard: false});
      m.wx = {kind: "venue", id: data.id[i], grade: grade};
      byCat[cat].push(m);
    }
    return byCat;
  };

  // A venue cluster shows its grade mix: a ring split A–D (and ungraded) by the share of its venues.
  Layers.prototype.venueClusterIcon = function (cluster) {
    var counts = {}, order = ["D", "C", "B", "A", "none"], colors = this.o.gradeColors;
    cluster.getAllChildMarkers().forEach(function (m) {
      var g = (m.wx && m.wx.grade) || "none";
      counts[g] = (counts[g] || 0) + 1;
    });
    var total = cluster.getChildCount(), at = 0, stops = [], title = [];
    order.forEach(function (g) {
      if (!counts[g]) { return; }
      var end = at + counts[g] / total * 360;
      stops.push(colors[g] + " " + at.toFixed(1) + "deg " + end.toFixed(1) + "deg");
      title.push((g === "none" ? tr("未评级") : tr("%(grade)s级", {grade: g})) + " " + counts[g]);
      at = end;
    });
    var icon = countIcon("wx-vcluster", total);
    icon.options.html = "<span style=\"background:conic-gradient(" + stops.join(",") + ")\" title=\"" +
      esc(title.join("，")) + "\"><b>" + total + "</b></span>";
    state.venueClusters = (state.venueClusters || 0) + 1;
    return icon;
  };

  // Bubbles of the eight categories share a cell; each sits at its own clock position around it.
  Layers.prototype.bubbleIcon = function (category, worst, count) {
    var size = count < 10 ? 26 : count < 100 ? 32 : count < 1000 ? 38 : 44;
    var k = Object.keys(this.o.glyphs).indexOf(category), angle = (k < 0 ? 0 : k) * Math.PI / 4, ring = 22;
    return L.divIcon({
      className: "wx-bubble",
      html: "<span style=\"width:" + size + "px;height:" + size + "px;line-height:" + (size - 4) + "px;border-color:" +
        this.o.gradeColors[worst || "none"] + "\"><b>" + esc(this.o.glyphs[category] || "场") + "</b>" + count + "</span>",
      iconSize: [size, size],
      iconAnchor: [size / 2 - ring * Math.cos(angle), size / 2 - ring * Math.sin(angle)]
    });
  };

  Layers.prototype.zoomToBubble = function (e) {
    var b = L.latLngBounds(e.target.wx.bounds);
    if (b.getNorthEast().equals(b.getSouthWest())) {
      this.map.setView(b.getCenter(), Math.min(this.map.getZoom() + 3, 18));
    } else {
      this.map.fitBounds(b.pad(0.1), {maxZoom: 18});
    }
  };

  // addLayers() clusters in chunks so the page keeps responding; resolve when the last chunk is in.
  Layers.prototype.fill = function (group, markers) {
    group.clearLayers();
    if (!markers.length) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      group.options.chunkProgress = function (done, total) { if (done >= total) { resolve(); } };
      group.addLayers(markers);
      if (!group._map) { resolve(); }  // hidden layers cluster when shown
    });
  };

  // ------------------------------------------------------------------ hits

  Layers.prototype.loadHits = function () {
    var self = this, bounds = this.map.getBounds().pad(0.3);
    return getJSON(withParams(this.o.urls.hits, Object.assign({bbox: bounds.toBBoxString()}, this.o.query)))
      .then(function (data) {
        self.loaded.hits = {bounds: bounds, zoom: self.map.getZoom(), truncated: data.truncated};
        var markers = [], heat = [];
        data.rows.forEach(function (r) {
          var m = L.marker([r[2], r[1]], {icon: self.hitIcon(r[4]), keyboard: false});
          m.wx = {kind: "hit", id: r[0]};
          markers.push(m);
          heat.push([r[2], r[1], Math.max(0.2, r[3])]);
        });
        state.hits = data.rows.length;
        self.hitHeat.setLatLngs(heat);
        return self.fill(self.hitCluster, markers);
      }).catch(function (err) { self.fail(tr("线索"), err); });
  };

  Layers.prototype.hitIcon = function (label) {
    var key = "hit|" + label;
    if (!this.icons[key]) {
      this.icons[key] = L.divIcon({className: "wx-hit wx-hit-" + label, html: "<span>!</span>",
                                   iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8]});
    }
    return this.icons[key];
  };

  // ------------------------------------------------------------------ popups (fetched on click, audited)

  Layers.prototype.openPopup = function (marker) {
    var self = this, info = marker.wx;
    if (!info) { return; }
    var url = (info.kind === "venue" ? this.o.urls.venue : this.o.urls.hit).replace("/0", "/" + info.id);
    marker.bindPopup(esc(tr("加载中…")), {maxWidth: 340}).openPopup();
    getJSON(url).then(function (d) {
      marker.setPopupContent(info.kind === "venue" ? self.venueHtml(d) : self.hitHtml(d));
    }).catch(function (err) { marker.setPopupContent(esc(tr("无法加载：") + err.message)); });
  };

  Layers.prototype.venueHtml = function (v) {
    var rows = (v.inspections || []).map(function (i) {
      return "<tr><td>" + esc(i.date) + "</td><td>" + esc(i.result) + "</td></tr>";
    }).join("") || "<tr><td colspan=2>" + esc(tr("暂无检查记录")) + "</td></tr>";
    return "<div class=\"wx-popup\"><b>" + esc(v.name) + "</b><br>" + esc(v.category) + " · " + esc(v.status) +
      "<br>" + esc(tr("许可证：")) + esc(v.licence_no || tr("无")) +
      (v.licence_expiry ? esc(tr("（有效期至 %(date)s）", {date: v.licence_expiry})) : "") +
      "<br>" + esc(tr("风险等级：")) + "<span class=\"grade grade-" + esc(v.grade || "none") + "\">" + esc(v.grade || "-") + "</span>" +
      (v.score !== null && v.score !== undefined ? " " + esc(tr("评分")) + " " + esc(v.score) : "") +
      "<br>" + esc(tr("地址：")) + esc(v.address || "") + "<br>" + esc(tr("网格：")) + esc(v.grid_name || "—") +
      "<table class=\"wx-mini\"><tr><th>" + esc(tr("最近检查")) + "</th><th>" + esc(tr("结果")) + "</th></tr>" + rows + "</table>" +
      "<a href=\"" + esc(v.url) + "\">" + esc(tr("一户一档")) + " »</a></div>";
  };

  Layers.prototype.hitHtml = function (h) {
    return "<div class=\"wx-popup\"><b>" + esc(h.title || tr("（无标题）")) + "</b><br>" +
      esc((h.label_names || []).map(function (n) { return tr(n); }).join(tr("、"))) + " · " + esc(tr("置信度")) + " " + esc(h.score) +
      "<br>" + esc(tr("来源：")) + esc(tr(h.source)) + " · " + esc(h.account || "") +
      "<br>" + esc(tr("位置：")) + esc(h.location_name || "") + "<br>" + esc(tr("网格：")) + esc(h.grid_name || tr("未分配")) +
      "<br>" + esc(tr("发现时间：")) + esc(h.detected_at) + "<br><a href=\"" + esc(h.url) + "\">" + esc(tr("线索详情")) + " »</a></div>";
  };

  // ------------------------------------------------------------------ wiring

  Layers.prototype.needsReload = function (loaded) {
    if (!loaded) { return false; }
    var view = this.map.getBounds();
    if (loaded.mode === "clusters" && this.map.getZoom() !== loaded.zoom) { return true; }
    return !loaded.bounds.contains(view) || (loaded.truncated && this.map.getZoom() > loaded.zoom);
  };

  // ------------------------------------------------------------------ base map: tiles or offline

  // The choice is remembered in this browser per user: the tiles, or the offline outlines.
  Layers.prototype.baseKey = function () { return "wangxun.basemap." + (this.o.user || "anon"); };

  Layers.prototype.remember = function (choice) {
    try { window.localStorage.setItem(this.baseKey(), choice); } catch (e) { /* private mode: not kept */ }
  };

  Layers.prototype.watchTiles = function () {
    var self = this, saved = null;
    try { saved = window.localStorage.getItem(this.baseKey()); } catch (e) { saved = null; }
    this.map.on("baselayerchange", function (e) {
      var offline = e.layer === self.offline;
      state.basemap = offline ? "offline" : "tiles";
      self.remember(state.basemap);
      if (offline) { self.drawOffline(); } else { self.notice(null); }
    });
    if (!this.tiles.length) {  // no tile source configured
      state.basemap = "offline";
      this.drawOffline();
      return;
    }
    state.basemap = "tiles";
    if (saved === "offline") { this.useOffline(tr("已按你上次的选择使用离线底图。")); return; }
    var loaded = 0, failed = 0, base = this.tiles[0];
    base.on("tileload", function () { loaded += 1; state.tilesLoaded = loaded; });
    base.on("tileerror", function () {
      failed += 1;
      state.tilesFailed = failed;
      // A few failures and not one tile: the tile server is out of reach (an intranet), not slow.
      if (!loaded && failed >= 4 && state.basemap === "tiles") {
        self.useOffline(tr("底图瓦片无法加载（%(n)s 张失败），已切换到离线底图：区、街道与网格轮廓。", {n: failed}));
      }
    });
  };

  Layers.prototype.useOffline = function (why) {
    var self = this;
    this.tiles.forEach(function (t) { if (self.map.hasLayer(t)) { self.map.removeLayer(t); } });
    if (!this.map.hasLayer(this.offline)) { this.map.addLayer(this.offline); }
    state.basemap = "offline";
    this.remember("offline");
    this.drawOffline();
    this.notice(why + " " + tr("可在右上角“图层”中切回在线底图。"));
  };

  Layers.prototype.notice = function (text) {
    if (!this.noticeBox) {
      var box = L.control({position: "bottomright"});
      box.onAdd = function () { return L.DomUtil.create("div", "wx-notice"); };
      box.addTo(this.map);
      this.noticeBox = box.getContainer();
    }
    this.noticeBox.textContent = text || "";
    this.noticeBox.style.display = text ? "" : "none";
    state.notice = text || "";
  };

  // The offline base: the district's and streets' outlines with the street names, from the data the
  // app already has (the grids layer draws the grids themselves). Drawn once, on a canvas.
  Layers.prototype.drawOffline = function () {
    var self = this;
    if (this.offlineDrawn || !this.offline) { return; }
    this.offlineDrawn = true;
    var renderer = L.canvas({padding: 0.3});
    var levels = [["district", {color: "#4a4a4a", weight: 3, fill: true, fillColor: "#f6f3ea", fillOpacity: 1}],
                  ["street", {color: "#7a7a7a", weight: 2, dashArray: "6 4", fill: false}]];
    levels.forEach(function (pair) {
      getJSON(withParams(self.o.urls.grids, {level: pair[0]})).then(function (fc) {
        var layer = L.geoJSON(fc, {
          renderer: renderer, interactive: pair[0] === "street", style: function () { return pair[1]; },
          onEachFeature: function (f, l) {
            if (pair[0] === "street") {
              l.bindTooltip(esc(f.properties.name), {permanent: true, direction: "center", className: "wx-street-label"});
            }
          }
        });
        self.offline.addLayer(layer);
        if (pair[0] === "district") { layer.bringToBack(); }
        state.offlineOutlines = (state.offlineOutlines || 0) + fc.features.length;
      }).catch(function (err) { self.fail(tr("离线底图"), err); });
    });
    if (this.o.urls.roads) { this.drawRoads(renderer); }
  };

  // Roads, when a file was imported (wangxun import-roads): lines under the street labels, their
  // names shown from zoom ROAD_LABEL_ZOOM on (lower, a district's road names cover the map).
  var ROAD_LABEL_ZOOM = 15;
  Layers.prototype.drawRoads = function (renderer) {
    var self = this, container = this.map.getContainer();
    var labels = function () {
      state.roadZoom = self.map.getZoom();
      state.roadNames = state.roadZoom >= ROAD_LABEL_ZOOM;
      container.classList.toggle("wx-road-names", state.roadNames);
    };
    getJSON(this.o.urls.roads).then(function (fc) {
      var layer = L.geoJSON(fc, {
        renderer: renderer, interactive: false, style: function () { return {color: "#c9b98f", weight: 3, opacity: 0.9}; },
        onEachFeature: function (f, l) {
          if (f.properties.name) {
            l.bindTooltip(esc(f.properties.name), {permanent: true, direction: "center", className: "wx-road-label"});
          }
        }
      });
      self.offline.addLayer(layer);
      state.offlineRoads = fc.features.length;
      self.map.on("zoomend", labels);
      labels();
    }).catch(function (err) { self.fail(tr("离线底图的道路"), err); });
  };

  // ------------------------------------------------------------------ the legend never covers a popup

  Layers.prototype.wireLegend = function () {
    var legend = this.map.getContainer().querySelector(".wx-legend");
    if (!legend) { return; }
    // On a phone the legend starts folded (one line, 图例): opened, it would cover half the map.
    if (window.matchMedia && window.matchMedia("(max-width: 700px)").matches) { legend.open = false; }
    this.map.on("popupopen", function () { legend.classList.add("wx-hidden"); });
    this.map.on("popupclose", function () { legend.classList.remove("wx-hidden"); });
  };

  Layers.prototype.start = function () {
    var self = this, started = performance.now();
    if (this.o.bounds) { this.map.fitBounds(this.o.bounds, {animate: false}); }
    this.watchTiles();
    this.wireLegend();
    this.hitCluster.on("click", function (e) { self.openPopup(e.layer); });
    Promise.all([this.loadGrids(), this.loadVenues(), this.loadHits()]).then(function () {
      state.loadMs = Math.round(performance.now() - started);
      state.readyAt = Math.round(performance.now());  // since navigation started
      state.ready = true;
      self.showStatus();
    });
    this.map.on("moveend", function () {
      if (self.needsReload(self.loaded.venues)) { state.loads += 1; self.loadVenues().then(function () { self.showStatus(); }); }
      if (self.needsReload(self.loaded.hits)) { self.loadHits().then(function () { self.showStatus(); }); }
    });
  };

  window.Wangxun = {
    init: function (map, layers) {
      var l = new Layers(map, layers);
      window.wangxunLayers = l;
      l.start();
      return l;
    }
  };
})();
