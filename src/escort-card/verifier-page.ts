import { VALUE_VOCABULARY, VOCABULARY } from '../perspective/vocabulary.js'
import { CARD_AUDIENCE, CARD_TYP } from './card-token.js'

/**
 * The offline verifier: a page and its own script, both served from this service ('self'), no
 * inline script. Once loaded it keeps only the public JWKS (in localStorage) and verifies a card's
 * JWS in the browser with WebCrypto (ECDSA P-256, SHA-256): signature, type, issuer, audience and
 * expiry. The script is a string in this module, so it is served the same from src/ and dist/.
 */
export const VERIFIER_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

export function verifierHtml(): string {
  return `<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Begeleidingskaart controleren / Check an escort card</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; max-width: 720px; }
  textarea { width: 100%; min-height: 6em; font-family: monospace; }
  .valid { border: 3px solid #0a0; padding: 8px; }
  .invalid { border: 3px solid #c00; padding: 8px; }
  span[lang="en"] { display: block; font-style: italic; color: #333; }
</style>
<script src="/escort-card/verify.js" defer></script>
</head>
<body>
<h1>Begeleidingskaart controleren <span lang="en">Check an escort card</span></h1>
<p id="keys" aria-live="polite">Sleutels laden… <span lang="en">Loading keys…</span></p>
<label for="token">Scan de QR-code of plak de kaarttekst <span lang="en">Scan the QR code or paste the card text</span></label>
<textarea id="token" autocomplete="off" spellcheck="false"></textarea>
<p><button id="check" type="button">Controleren / Check</button></p>
<div id="result" aria-live="assertive"></div>
</body>
</html>
`
}

export function verifierScript(issuer: string): string {
  const words: Record<string, { nl: string; en: string; values?: Record<string, { nl: string; en: string }> }> = {}
  for (const def of Object.values(VOCABULARY)) words[def.code] = { nl: def.displayNl, en: def.display }
  for (const v of VALUE_VOCABULARY) {
    const entry = words[v.appliesTo]!
    entry.values = { ...(entry.values ?? {}), [v.code]: { nl: v.displayNl, en: v.display } }
  }
  const config = { issuer, audience: CARD_AUDIENCE, typ: CARD_TYP, words }
  return `'use strict';
(function () {
  var CONFIG = ${JSON.stringify(config)};
  var STORE = 'overdracht-escort-card-jwks';
  var REASONS = {
    malformed: ['Dit is geen begeleidingskaart van Overdracht.', 'This is not an Overdracht escort card.'],
    'unknown-key': ['De kaart is ondertekend met een onbekende sleutel: niet geldig.', 'The card is signed with an unknown key: not valid.'],
    signature: ['De handtekening klopt niet: de kaart is gewijzigd of vervalst.', 'The signature does not match: the card was altered or forged.'],
    expired: ['De kaart is verlopen.', 'The card has expired.'],
    audience: ['De kaart is niet voor deze controle bedoeld.', 'The card is not meant for this check.'],
    issuer: ['De kaart komt niet van deze uitgever.', 'The card is not from this issuer.'],
    type: ['Dit token is geen begeleidingskaart.', 'This token is not an escort card.'],
    'no-keys': ['Er zijn nog geen sleutels geladen: open deze pagina eenmaal met netwerk.', 'No keys loaded yet: open this page once with a network.']
  };
  function el(id) { return document.getElementById(id); }
  function b64u(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function json(part) { return JSON.parse(new TextDecoder().decode(b64u(part))); }
  function storedKeys() { try { return JSON.parse(localStorage.getItem(STORE) || 'null'); } catch (e) { return null; } }
  async function loadKeys() {
    try {
      var res = await fetch('/.well-known/jwks.json', { cache: 'no-store' });
      if (res.ok) localStorage.setItem(STORE, JSON.stringify(await res.json()));
    } catch (e) { /* offline: the keys kept earlier are used */ }
    return storedKeys();
  }
  function refuse(reason) { return { valid: false, reason: reason }; }
  async function verify(token, jwks, now) {
    var parts = token.trim().split('.');
    if (parts.length !== 3) return refuse('malformed');
    var header, payload;
    try { header = json(parts[0]); payload = json(parts[1]); } catch (e) { return refuse('malformed'); }
    if (header.alg !== 'ES256') return refuse('malformed');
    if (header.typ !== CONFIG.typ) return refuse('type');
    if (!jwks || !jwks.keys) return refuse('no-keys');
    var jwk = jwks.keys.find(function (k) { return k.kid === header.kid; });
    if (!jwk) return refuse('unknown-key');
    var key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    var ok = false;
    try {
      ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, b64u(parts[2]), new TextEncoder().encode(parts[0] + '.' + parts[1]));
    } catch (e) { ok = false; }
    if (!ok) return refuse('signature');
    if (payload.iss !== CONFIG.issuer) return refuse('issuer');
    var aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (aud.indexOf(CONFIG.audience) < 0) return refuse('audience');
    if (typeof payload.exp !== 'number' || payload.exp * 1000 + 60000 <= now) return refuse('expired');
    if (!Array.isArray(payload.codes)) return refuse('malformed');
    return { valid: true, payload: payload };
  }
  function line(nl, en) {
    var li = document.createElement('li');
    var a = document.createElement('span'); a.lang = 'nl'; a.textContent = nl;
    var b = document.createElement('span'); b.lang = 'en'; b.textContent = en;
    li.appendChild(a); li.appendChild(b);
    return li;
  }
  function show(verdict) {
    var out = el('result');
    out.textContent = '';
    out.className = verdict.valid ? 'valid' : 'invalid';
    out.setAttribute('data-verdict', verdict.valid ? 'valid' : verdict.reason);
    var h = document.createElement('h2');
    if (!verdict.valid) {
      var r = REASONS[verdict.reason] || REASONS.malformed;
      h.textContent = 'Niet geldig / Not valid';
      out.appendChild(h);
      var ul0 = document.createElement('ul'); ul0.appendChild(line(r[0], r[1])); out.appendChild(ul0);
      return;
    }
    h.textContent = 'Geldig / Valid';
    out.appendChild(h);
    var p = verdict.payload;
    var dep = new Date(p.dep * 1000), exp = new Date(p.exp * 1000);
    var meta = document.createElement('ul');
    meta.appendChild(line('Vertrek: ' + dep.toLocaleString('nl-NL'), 'Departure: ' + dep.toLocaleString('en-GB')));
    meta.appendChild(line('Geldig tot: ' + exp.toLocaleString('nl-NL'), 'Valid until: ' + exp.toLocaleString('en-GB')));
    out.appendChild(meta);
    var ul = document.createElement('ul');
    ul.className = 'codes';
    p.codes.forEach(function (item) {
      var code = item.split('=')[0], rest = item.split('=')[1];
      var w = CONFIG.words[code];
      if (!w) return;
      var nl = w.nl, en = w.en;
      if (rest && w.values) {
        var value = rest.split('@')[0], until = rest.split('@')[1];
        var v = w.values[value];
        if (!v) return;
        nl += ': ' + v.nl + (until ? ' (tot ' + until + ')' : '');
        en += ': ' + v.en + (until ? ' (until ' + until + ')' : '');
      }
      var li = line(nl, en); li.setAttribute('data-code', item); ul.appendChild(li);
    });
    if (!ul.childNodes.length) ul.appendChild(line('Geen aandachtspunten.', 'No points of attention.'));
    out.appendChild(ul);
  }
  // A service worker keeps the page and this script, so the page opens again without a network.
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/escort-card/sw.js', { scope: '/escort-card/' }).catch(function () { /* the page still works while open */ });
  }
  document.addEventListener('DOMContentLoaded', async function () {
    var keys = await loadKeys();
    el('keys').textContent = keys ? 'Sleutels geladen; werkt nu ook zonder netwerk. / Keys loaded; works without a network now.' : REASONS['no-keys'].join(' / ');
    el('keys').setAttribute('data-keys', keys ? String(keys.keys.length) : '0');
    el('check').addEventListener('click', async function () {
      show(await verify(el('token').value, storedKeys(), Date.now()));
    });
  });
})();
`
}

/** The verifier's service worker: the page and its script from the cache first, so it opens offline. */
export function verifierServiceWorker(version: string): string {
  return `'use strict';
var CACHE = 'overdracht-escort-card-verify-${version}';
var FILES = ['/escort-card/verify', '/escort-card/verify.js'];
self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('overdracht-escort-card-verify-') === 0 && k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener('fetch', function (event) {
  var url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || FILES.indexOf(url.pathname) < 0) return;
  // Network first, so a new version is picked up; the cached copy when there is no network.
  event.respondWith(fetch(event.request).then(function (res) {
    var copy = res.clone();
    if (res.ok) caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
    return res;
  }).catch(function () { return caches.match(url.pathname); }));
});
`
}
