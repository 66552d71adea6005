/* perpsbook: glue between the bundled widget renderer and the page (loaded after
 * require.js, before embed-amd.js; see _config.yml nb_ipywidgets_js).
 *
 * 1. Tell RequireJS where the html-manager bundle lives, so the fonts it loads relative to
 *    its own module URL come from _static/widgets/ and not from <page dir>/@jupyter-widgets/.
 * 2. The widget bundle typesets with the MathJax 2 call MathJax.Hub.Queue(["Typeset", ...]);
 *    the page runs MathJax 3, which has no Hub ("Cannot read properties of undefined
 *    (reading 'Queue')").  Give every MathJax object a non-enumerable Hub whose Queue
 *    forwards to MathJax 3's typesetPromise once MathJax has started.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script.src.split("?")[0].replace(/\/[^/]*$/, "");
  if (window.require && window.require.config) {
    window.require.config({ paths: { "@jupyter-widgets/html-manager/dist": base } });
  }

  function typeset(element, attempt) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      mj.startup.promise
        .then(function () { return mj.typesetPromise(element ? [element] : undefined); })
        .catch(function (err) { console.warn("perpsbook: MathJax typeset failed", err); });
    } else if (attempt < 200) {
      setTimeout(function () { typeset(element, attempt + 1); }, 50);
    }
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset") typeset(job[2], 0);
      }
    },
  };
  function withHub(obj) {
    if (obj && typeof obj === "object" && !("Hub" in obj)) {
      Object.defineProperty(obj, "Hub", { value: hub, enumerable: false, configurable: true, writable: true });
    }
    return obj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
})();
