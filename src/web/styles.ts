/**
 * The web application's one style sheet, served at /assets/app.css (a module, not a file, so the
 * compiled service in dist/ serves it without a copy step). Contrast: text #111 or #1a1a1a on
 * white, links #0b4f8a (8.6:1), the accent #003e7e on white (11:1); every focus is a visible ring.
 */
export const APP_CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: #111; background: #fff; font: 1.0625rem/1.5 "DejaVu Sans", "Liberation Sans", system-ui, Arial, sans-serif; }
a { color: #0b4f8a; text-underline-offset: .15em; }
a:hover { color: #06345c; }
:focus-visible { outline: 3px solid #c45500; outline-offset: 2px; }
.skip-link { position: absolute; left: .5rem; top: -3rem; padding: .5rem .8rem; background: #fff; color: #0b4f8a; border: 2px solid #0b4f8a; z-index: 10; }
.skip-link:focus { top: .5rem; }
header.site { background: #003e7e; color: #fff; }
header.site .bar { max-width: 60rem; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1.2rem; align-items: center; justify-content: space-between; }
header.site a, header.site .who { color: #fff; }
header.site .brand { font-weight: bold; font-size: 1.2rem; text-decoration: none; }
header.site nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; }
header.site form { margin: 0; }
header.site button { background: #fff; color: #003e7e; border: 2px solid #fff; }
.dev-banner { max-width: none; margin: 0; background: #fff3cd; color: #1a1a1a; border-bottom: 2px solid #8a6d00; padding: .4rem 1rem; text-align: center; font-weight: bold; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem 1rem 2rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: .6rem 0 .8rem; }
h2 { font-size: 1.3rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1.1rem; margin: 1rem 0 .4rem; }
p { max-width: 44rem; }
button, .button { display: inline-block; font: inherit; font-weight: bold; padding: .55rem 1rem; border-radius: 4px; border: 2px solid #003e7e; background: #003e7e; color: #fff; cursor: pointer; text-decoration: none; min-height: 44px; }
button.secondary, .button.secondary { background: #fff; color: #003e7e; }
button:hover, .button:hover { background: #06345c; color: #fff; }
form.stack { display: grid; gap: .9rem; max-width: 32rem; }
label { display: block; font-weight: bold; margin-bottom: .2rem; }
.hint { display: block; font-weight: normal; color: #333; font-size: .95rem; }
input, select, textarea { font: inherit; padding: .45rem .55rem; border: 2px solid #555; border-radius: 4px; width: 100%; background: #fff; color: #111; }
fieldset { border: 2px solid #555; border-radius: 4px; padding: .6rem .9rem; }
legend { font-weight: bold; padding: 0 .3rem; }
fieldset label { display: inline; font-weight: normal; margin-right: 1rem; }
fieldset input { width: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .3rem; }
th, td { border: 1px solid #666; padding: .4rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #e8eef5; }
.notice { border-left: 6px solid #003e7e; background: #eef3f9; padding: .6rem .9rem; margin: 1rem 0; }
.warning { border-left: 6px solid #8b0000; background: #fbeaea; padding: .6rem .9rem; margin: 1rem 0; }
.warning h2, .notice h2 { margin-top: 0; }
.flags { list-style: none; padding: 0; margin: 0; display: grid; gap: .7rem; }
.flags li { border: 2px solid #555; border-radius: 4px; padding: .6rem .8rem; }
.flags .title { font-weight: bold; font-size: 1.1rem; display: block; }
.tag { display: inline-block; border: 2px solid #8b0000; color: #8b0000; font-weight: bold; padding: 0 .35rem; margin-left: .4rem; font-size: .9rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: .4rem 0 1rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
.people { list-style: none; padding: 0; display: grid; gap: .6rem; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
.people li { border: 2px solid #555; border-radius: 4px; padding: .7rem; }
.people button { width: 100%; margin-top: .4rem; }
.scan-video { display: block; width: 100%; max-width: 24rem; margin-top: .5rem; border: 2px solid #555; }
.scan-video[hidden] { display: none; }
.qr { margin: .5rem 0; }
.qr svg { width: 16rem; height: 16rem; max-width: 100%; display: block; }
.short-code { display: block; font: 600 1.6rem/1.3 ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing: .12em; width: 15ch; max-width: 100%; }
textarea[readonly] { font-family: "DejaVu Sans Mono", monospace; font-size: .85rem; word-break: break-all; }
.tel { font-size: 1.3rem; font-weight: bold; }
footer.site { max-width: 60rem; margin: 0 auto; padding: 1rem; border-top: 1px solid #666; color: #333; font-size: .95rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media print {
  header.site, footer.site, .skip-link, .no-print, .dev-banner { display: none; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  a { color: #000; }
}
`
