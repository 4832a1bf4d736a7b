"use strict";
// Kept out of the HTML so the docs page needs no inline script under the CSP. No validator
// badge: it would call an outside service, and the page must work offline.
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", validatorUrl: null });
