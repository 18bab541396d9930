/**
 * Progressive enhancement of the escort nurse's "open a dossier" form: where the browser can read
 * QR codes (BarcodeDetector) and has a camera, a button scans the consent code into the field and
 * submits the form. Without it (or without JavaScript) the nurse types the code. Served as a file
 * from this service (`/assets/scan.js`, CSP `script-src 'self'`); it stores nothing.
 */
export const SCAN_JS = `(() => {
  const field = document.getElementById('token')
  const slot = document.getElementById('scan-slot')
  if (!field || !slot || !('BarcodeDetector' in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'secondary'
  button.textContent = slot.dataset.label || 'Scan'
  const video = document.createElement('video')
  video.setAttribute('playsinline', '')
  video.muted = true
  video.hidden = true
  video.className = 'scan-video'
  slot.append(button, video)
  button.addEventListener('click', async () => {
    let stream
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })
    } catch {
      return
    }
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] })
    const stop = () => { stream.getTracks().forEach((t) => t.stop()); video.srcObject = null; video.hidden = true }
    video.srcObject = stream
    video.hidden = false
    await video.play()
    const tick = async () => {
      try {
        const codes = await detector.detect(video)
        if (codes[0] && codes[0].rawValue) {
          field.value = codes[0].rawValue
          stop()
          if (field.form) field.form.requestSubmit()
          return
        }
      } catch {}
      if (!video.hidden) requestAnimationFrame(tick)
    }
    tick()
  })
})()
`
