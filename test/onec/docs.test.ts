import { readFileSync } from 'node:fs';
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
      expect(text).to.contain('CREATEINFOBASE');
      expect(text).to.match(/\/Out "[^"]+build\.log"/);
    });
  }

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
