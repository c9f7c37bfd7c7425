// The web app is built once into dist/, which the daemon serves at its API address.
import { defineConfig } from 'vite'

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2023', chunkSizeWarningLimit: 2048 },
})
