// Swagger UI on /api/v1/docs, reading the document URL from the page (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("api-docs");
  window.SwaggerUIBundle({ url: root.dataset.url, domNode: root, deepLinking: true });
});
