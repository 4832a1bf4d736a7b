"use strict";
// Kept out of the HTML so the docs page needs no inline script under the CSP.
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
