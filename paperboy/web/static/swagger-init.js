/* paperboy: starts Swagger UI on /docs. A file, not an inline script, so that the page keeps the
   site's Content-Security-Policy (script-src 'self'); the OpenAPI URL comes from the page. */
(() => {
  "use strict";
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis],
    validatorUrl: null, // never ask validator.swagger.io (another origin) about the document
  });
})();
