import QRCode from 'qrcode'
import type { EscortCard } from './escort-card.service.js'

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!)

const ROLE_WORDS: Record<string, { nl: string; en: string }> = {
  regievoerder: { nl: 'Regievoerder DT&V', en: 'DT&V case director' },
  escort: { nl: 'Escorte (DV&O of KMar)', en: 'Escort (DV&O or KMar)' },
  casemanager: { nl: 'Casemanager COA', en: 'COA case manager' },
  caregiver: { nl: 'Zorgverlener', en: 'Caregiver' },
}

const TIME_ZONE = 'Europe/Amsterdam'
const when = (d: Date, lang: 'nl' | 'en') =>
  new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE }).format(d)

/** The CSP of the card: nothing loads, nothing runs; the QR code is inline SVG. */
export const CARD_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

/** The printable escort card: QR code, the codes in words (Dutch and English), departure and expiry. */
export async function renderEscortCardHtml(card: EscortCard, statusUrl: string, verifyUrl: string): Promise<string> {
  const qr = await QRCode.toString(card.token, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })
  const role = ROLE_WORDS[card.role] ?? { nl: card.role, en: card.role }
  const rows = card.words.length
    ? card.words.map((w) => `<li data-code="${escape(w.code)}"><span lang="nl">${escape(w.nl)}</span><span lang="en">${escape(w.en)}</span></li>`).join('\n')
    : '<li><span lang="nl">Geen aandachtspunten voor uw rol.</span><span lang="en">No points of attention for your role.</span></li>'
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Begeleidingskaart / Escort card</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; padding: 16px; color: #000; background: #fff; }
  .card { max-width: 720px; border: 2px solid #000; padding: 16px; display: grid; grid-template-columns: 300px 1fr; gap: 16px; }
  .qr svg { width: 300px; height: 300px; display: block; }
  h1 { font-size: 20px; margin: 0 0 8px; }
  ul { padding-left: 18px; margin: 8px 0; }
  li { margin: 6px 0; }
  li span { display: block; }
  li span[lang="en"] { color: #333; font-style: italic; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 8px; margin: 8px 0; font-size: 14px; }
  dt { font-weight: 600; }
  .note { font-size: 12px; color: #333; }
  @media print { body { padding: 0; } }
</style>
</head>
<body>
<main class="card">
  <div class="qr" role="img" aria-label="QR-code van de begeleidingskaart / QR code of the escort card">${qr}</div>
  <div>
    <h1>Begeleidingskaart <span lang="en">/ Escort card</span></h1>
    <dl>
      <dt>Rol / Role</dt><dd>${escape(role.nl)} / <span lang="en">${escape(role.en)}</span></dd>
      <dt>Vertrek / Departure</dt><dd>${escape(when(card.plannedDeparture, 'nl'))} / <span lang="en">${escape(when(card.plannedDeparture, 'en'))}</span></dd>
      <dt>Geldig tot / Valid until</dt><dd>${escape(when(card.expiresAt, 'nl'))} / <span lang="en">${escape(when(card.expiresAt, 'en'))}</span></dd>
    </dl>
    <h2 lang="nl">Wat te doen</h2>
    <ul class="codes">
${rows}
    </ul>
    ${card.safetyCriticalOnly ? '<p class="note">Alleen veiligheidskritische punten (geen toestemming voor meer). <span lang="en">Safety-critical points only (no consent for more).</span></p>' : ''}
    <p class="note">Controleer de kaart: scan de QR-code op ${escape(verifyUrl)} of met <code>npm run verify-card</code>. Status online: ${escape(statusUrl)}.
    <span lang="en">Check the card: scan the QR code at ${escape(verifyUrl)} or with <code>npm run verify-card</code>. Online status: ${escape(statusUrl)}.</span></p>
  </div>
</main>
</body>
</html>
`
}
