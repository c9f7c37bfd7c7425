// The page asks /config.json for the daemon's WebSocket addresses and stores, as the daemon's own
// web app does: in development and preview, Vite passes that request on to the daemon's API
// (DAGSYNC_API, default http://127.0.0.1:5011). Serve it the same way in production.
import { defineConfig } from 'vite'

const daemon = process.env.DAGSYNC_API ?? 'http://127.0.0.1:5011'
const proxy = { '/config.json': daemon }

export default defineConfig({
  server: { proxy },
  preview: { proxy },
  build: { target: 'es2023', chunkSizeWarningLimit: 2048 },
})
