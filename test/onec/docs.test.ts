import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { dumpLayout, ONEC } from './lib/dump.ts';

// onec/README.md and the build scripts are how a 1C developer gets from these sources to a
// working .epf; they must name the real root file and the steps the issue lists.

const read = (path: string) => readFileSync(join(ONEC, path), 'utf8');

describe('onec: README and build scripts', () => {
  const layout = dumpLayout();

  for (const script of ['build-epf.cmd', 'build-epf.sh']) {
    it(`${script} loads the root XML file into an .epf in batch mode`, () => {
      const text = read(script);
      const separator = script.endsWith('.cmd') ? '\\' : '/';
      expect(text).to.contain(`/LoadExternalDataProcessorOrReportFromFiles "`);
      expect(text).to.contain(`src${separator}${layout.root}"`);
      expect(text).to.contain(`${layout.name}.epf`);
      expect(text).to.contain('/DisableStartupDialogs');
      expect(text.match(/\/DisableStartupMessages/g)).to.have.length(2);
      expect(text).to.contain('CREATEINFOBASE');
      expect(text).to.match(/\/Out "[^"]+build\.log"/);
    });
  }

  describe('build-epf.sh, run with a stand-in for 1cv8', () => {
    /** Runs a copy of the script in a temporary folder; the stand-in writes its arguments to /Out's log. */
    function build(options: { exitCode: number; env?: Record<string, string>; path?: string }) {
      const dir = mkdtempSync(join(tmpdir(), 'build-epf-'));
      copyFileSync(join(ONEC, 'build-epf.sh'), join(dir, 'build-epf.sh'));
      const fake = join(dir, '1cv8');
      writeFileSync(
        fake,
        `#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = /Out ] && echo "log of $0: $*" > "$2"; shift; done\necho called >> "${dir}/calls"\nexit ${options.exitCode}\n`,
      );
      chmodSync(fake, 0o755);
      const result = spawnSync('sh', [join(dir, 'build-epf.sh')], {
        encoding: 'utf8',
        env: { PATH: options.path ?? process.env.PATH ?? '', V8: fake, ...options.env },
      });
      return { dir, ...result };
    }

    it('prints the log of a failed infobase creation and stops there', () => {
      const run = build({ exitCode: 1, env: { XVFB: '' } });
      expect(run.status).to.equal(1);
      expect(run.stderr).to.contain('Не удалось создать пустую базу');
      expect(run.stderr).to.contain('log of');
      expect(readFileSync(join(run.dir, 'calls'), 'utf8').trim().split('\n')).to.have.length(1);
    });

    it('wraps the Designer in xvfb-run when there is no DISPLAY', () => {
      const bin = mkdtempSync(join(tmpdir(), 'xvfb-'));
      writeFileSync(join(bin, 'xvfb-run'), `#!/bin/sh\necho "$@" >> "${bin}/wrapped"\nshift\nexec "$@"\n`);
      chmodSync(join(bin, 'xvfb-run'), 0o755);
      const run = build({ exitCode: 0, path: `${bin}:${process.env.PATH}` });
      expect(run.status, run.stderr).to.equal(0);
      const wrapped = readFileSync(join(bin, 'wrapped'), 'utf8').trim().split('\n');
      expect(wrapped).to.have.length(2); // CREATEINFOBASE and DESIGNER
      for (const line of wrapped) expect(line).to.match(/^-a .*1cv8 .*\/DisableStartupMessages/);
    });

    it('says what to install when there is neither DISPLAY nor xvfb-run', () => {
      const run = build({ exitCode: 0, path: '/usr/bin:/bin' });
      if (existsSync('/usr/bin/xvfb-run')) return; // this machine has it: the case cannot happen here
      expect(run.status).to.equal(1);
      expect(run.stderr).to.contain('xvfb');
    });
  });

  it('onec/README.md states what the processing needs, without over-promising', () => {
    const text = read('README.md');
    for (const needed of [
      '8.3.10',
      'режим совместимости',
      '8.3.6',
      'управляемое приложение',
      'Использовать управляемые формы в обычном приложении',
      'Интерактивное открытие внешних обработок',
      'xvfb-run',
      'самой старой',
    ]) {
      expect(text, needed).to.contain(needed);
    }
    expect(text).not.to.match(/для любой конфигурации/);
    // Every server-side example that creates the processing passes ОписаниеЗащитыОтОпасныхДействий.
    const examples = [...text.matchAll(/```bsl\n([\s\S]*?)```/g)].map((match) => match[1] as string);
    const creating = examples.filter((code) => /ВнешниеОбработки\.(Создать|Подключить)\(/.test(code));
    expect(creating.length).to.be.greaterThan(0);
    for (const code of creating) expect(code).to.contain('Новый ОписаниеЗащитыОтОпасныхДействий');
    // An example that reads usage checks that it is there.
    for (const code of examples.filter((example) => example.includes('"usage"'))) {
      expect(code).to.contain('Тип("Соответствие")');
    }
  });

  it('onec/README.md (Russian) covers loading, building, the API, safe mode and connecting', () => {
    const text = read('README.md');
    const cyrillic = text.match(/[А-Яа-яЁё]/g)?.length ?? 0;
    const latin = text.match(/[A-Za-z]/g)?.length ?? 0;
    expect(cyrillic).to.be.greaterThan(latin); // Russian prose, code and names aside
    for (const needed of [
      'Файл → Загрузить внешнюю обработку, отчет из файлов…',
      `1cv8 DESIGNER /F onec\\build\\ib /DisableStartupDialogs /LoadExternalDataProcessorOrReportFromFiles onec\\src\\${layout.root}`,
      'ВнешниеОбработки.Создать(',
      'Спросить(Текст, СистемныйПромпт = "", Модель = "", Температура = Неопределено, ПричинаЗавершения = "")',
      'ПричинаЗавершенияОтвета(Ответ)',
      'ПоследниеСообщения(Сообщения, Максимум = 0)',
      'СохранениеДанныхПользователя',
      'ОтправитьСообщения(Сообщения, ДопПараметры = Неопределено)',
      'СписокМоделей()',
      'МаркдаунВHTML(Текст)',
      'НачатьОтвет(Сообщения, ДопПараметры = Неопределено)',
      'СостояниеОтвета(Идентификатор)',
      'ОтменитьОтвет(Идентификатор)',
      'ПодключитьОбработчикОжидания',
      'Остановить',
      'Проверить подключение',
      'СведенияОВнешнейОбработке',
      'СпроситьПоФайлу(Текст, ДанныеФайла, ИмяФайла, СистемныйПромпт = "", Модель = "")',
      'Эмбеддинги(Тексты, МодельЭмбеддингов = "Embeddings")',
      'Дополнительные отчеты и обработки',
      'БП 3.0',
      'Что видит обычный пользователь',
      'настройки сервера 1С',
      'Retry-After',
      'безопасн',
      'GATEWAY_API_KEYS',
      'Authorization',
      'POST /analyze/text',
      'GET /health',
    ]) {
      expect(text, needed).to.contain(needed);
    }
  });

  it('the main README and docs/1c.md link to it', () => {
    expect(readFileSync(join(ONEC, '../README.md'), 'utf8')).to.contain('(onec/README.md)');
    expect(readFileSync(join(ONEC, '../docs/1c.md'), 'utf8')).to.contain('(../onec/README.md)');
  });
});
