// The app page's script: talks to Bitrix24 through b24jssdk's frame API (global B24Js) and to our
// server with the signed page session. Everything shown is set with textContent, never as HTML.
(() => {
  const data = JSON.parse(document.getElementById('app-data').textContent);
  const $ = (id) => document.getElementById(id);
  let frame;

  async function call(path, method, body) {
    const response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${data.session}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer?.error?.message ?? `HTTP ${response.status}`);
    return answer;
  }

  function setStatus(id, text, isError) {
    const node = $(id);
    node.textContent = text;
    node.classList.toggle('error', isError === true);
  }

  function cell(text, className) {
    const node = document.createElement('td');
    node.textContent = String(text);
    if (className !== undefined) node.className = className;
    return node;
  }

  function showEngines(engines, usage) {
    const rows = engines.map((engine) => {
      const row = document.createElement('tr');
      const model = document.createElement('td');
      const code = document.createElement('code');
      code.textContent = engine.model;
      model.append(code);
      row.dataset.code = engine.code;
      row.append(cell(engine.name), model);
      row.append(cell(usage[engine.code]?.requests ?? 0, 'num'), cell(usage[engine.code]?.totalTokens ?? 0, 'num'));
      return row;
    });
    $('engines').tBodies[0].replaceChildren(...rows);
    $('no-engines').classList.toggle('hidden', engines.length > 0);
    const options = engines.map((engine) => new Option(engine.name, engine.code));
    $('try-engine').replaceChildren(...options);
    fitFrame();
  }

  function fitFrame() {
    if (frame !== undefined) frame.parent.fitWindow().catch(() => undefined);
  }

  // Both buttons change the portal's engines: register them again, or at new secret addresses.
  function engineButton(id, path, doneText) {
    $(id).addEventListener('click', async () => {
      $(id).disabled = true;
      setStatus(`${id}-status`, data.texts.working);
      try {
        const state = await call(path, 'POST');
        showEngines(state.engines, state.usage);
        setStatus(`${id}-status`, doneText);
      } catch (error) {
        setStatus(`${id}-status`, error.message, true);
      } finally {
        $(id).disabled = false;
      }
    });
  }
  engineButton('reregister', 'app/api/engines', data.texts.done);
  engineButton('rotate', 'app/api/rotate', data.texts.rotated);

  $('try-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('try-send').disabled = true;
    setStatus('try-status', data.texts.working);
    try {
      const answer = await call('app/api/try', 'POST', {
        engine: $('try-engine').value,
        prompt: $('try-prompt').value,
      });
      $('try-answer-text').textContent = answer.answer;
      $('try-answer').classList.remove('hidden');
      setStatus('try-status', '');
      const state = await call('app/api/state', 'GET');
      showEngines(state.engines, state.usage);
    } catch (error) {
      setStatus('try-status', error.message, true);
    } finally {
      $('try-send').disabled = false;
      fitFrame();
    }
  });

  // Inside Bitrix24 the frame API sizes the slider to the page; opened on its own the page still works.
  if (window.parent !== window && typeof B24Js !== 'undefined') {
    B24Js.initializeB24Frame().then(
      (connected) => {
        frame = connected;
        document.documentElement.dataset.frame = 'connected';
        fitFrame();
      },
      () => {
        document.documentElement.dataset.frame = 'unavailable';
      },
    );
  }
})();
