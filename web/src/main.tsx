import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { createApi } from "./api/client";
import { App } from "./App";
import { AuthGate } from "./auth/session";
import { Providers } from "./Providers";
import "./styles.css";

const root = document.getElementById("root");
if (root === null) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <AuthGate>
      <Providers api={createApi()}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </Providers>
    </AuthGate>
  </StrictMode>,
);
