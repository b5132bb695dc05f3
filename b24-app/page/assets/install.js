// The installation page's script. The server has already confirmed the portal and registered the
// engines while answering this page; all that is left is telling Bitrix24 the install is finished.
(() => {
  const data = JSON.parse(document.getElementById('install-data').textContent);
  if (!data.ok || window.parent === window || typeof B24Js === 'undefined') return;
  B24Js.initializeB24Frame()
    .then(async (frame) => {
      frame.parent.fitWindow().catch(() => undefined);
      // installFinish rejects when the app is installed already (opened again): nothing to do then.
      if (frame.isInstallMode) await frame.installFinish();
      document.documentElement.dataset.installFinished = 'yes';
    })
    .catch(() => {
      document.documentElement.dataset.installFinished = 'no';
    });
})();
