import { expect } from 'chai';
import { parseBsl } from './lib/bsl.ts';
import { parseXml, XmlError } from './lib/xml.ts';

// The checkers the dump tests rely on must themselves reject what the platform would reject.

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

describe('onec: the XML reader rejects malformed documents', () => {
  const malformed: Record<string, string> = {
    'a missing declaration': '<Form/>',
    'an unclosed element': '<Form><Title></Form>',
    'crossed elements': '<Form><a><b></a></b></Form>',
    'a second root': '<Form/><Form/>',
    'text after the root': '<Form/>x',
    'a bare ampersand': '<Form>A & B</Form>',
    'an unknown entity': '<Form>&nbsp;</Form>',
    'an unquoted attribute': '<Form id=1/>',
    'a duplicate attribute': '<Form id="1" id="2"/>',
    'a < in an attribute value': '<Form name="a<b"/>',
    'an undeclared prefix': '<Form><v8:item/></Form>',
    'a CDATA section': '<Form><![CDATA[x]]></Form>',
    'a comment with --': '<Form><!-- a -- b --></Form>',
  };
  for (const [problem, body] of Object.entries(malformed)) {
    it(problem, () => {
      const source = problem === 'a missing declaration' ? body : DECLARATION + body;
      expect(() => parseXml(source)).to.throw(XmlError, /^line \d+: /);
    });
  }

  it('reads what the Designer writes: entities, namespaces, depth and indentation', () => {
    const root = parseXml(
      `${DECLARATION}<Form xmlns="urn:f" xmlns:v8="urn:v8" version="2.4">\n\t<Title a="&quot;x&quot;">A &amp; B &#1071;</Title>\n\t<v8:item/>\n</Form>`,
    );
    expect(root.attributes.version).to.equal('2.4');
    expect(root.children.map((element) => [element.name, element.depth, element.indent, element.line])).to.deep.equal([
      ['Title', 1, '\t', 3],
      ['v8:item', 1, '\t', 4],
    ]);
    expect(root.children[0]?.text).to.equal('A & B Я');
    expect(root.children[0]?.attributes.a).to.equal('"x"');
  });
});

describe('onec: the BSL reader finds structural errors', () => {
  const broken: Record<string, { source: string; error: RegExp }> = {
    'an unclosed string': {
      source: 'Процедура А()\n\tТекст = "начало;\n\tБ = 1;\nКонецПроцедуры',
      error: /line 2: string literal is not closed/,
    },
    'a string that ends the module open': {
      source: 'Процедура А()\n\tТекст = "начало\n\t|продолжение;',
      error: /string literal is not closed at the end/,
    },
    'a missing КонецЕсли': {
      source: 'Процедура А()\n\tЕсли Б Тогда\n\t\tВ = 1;\nКонецПроцедуры',
      error: /КонецПроцедуры closes Если of line 2/,
    },
    'Если without Тогда': {
      source: 'Процедура А()\n\tЕсли Б\n\t\tВ = 1;\n\tКонецЕсли;\nКонецПроцедуры',
      error: /line 2: Если without Тогда/,
    },
    'a loop without Цикл': {
      source: 'Процедура А()\n\tПока Б\n\tКонецЦикла;\nКонецПроцедуры',
      error: /Пока without Цикл/,
    },
    'a stray КонецЦикла': {
      source: 'Процедура А()\n\tКонецЦикла;\nКонецПроцедуры',
      error: /КонецЦикла closes Процедура/,
    },
    'Иначе outside Если': {
      source: 'Процедура А()\n\tИначе\nКонецПроцедуры',
      error: /Иначе outside Если/,
    },
    'Исключение outside Попытка': {
      source: 'Процедура А()\n\tИсключение\nКонецПроцедуры',
      error: /Исключение outside Попытка/,
    },
    'an unclosed Попытка': {
      source: 'Функция А()\n\tПопытка\n\t\tБ();\nКонецФункции',
      error: /КонецФункции closes Попытка/,
    },
    'a nested method': {
      source: 'Процедура А()\nПроцедура Б()\nКонецПроцедуры\nКонецПроцедуры',
      error: /Процедура inside Процедура/,
    },
    'an unbalanced #Область': {
      source: '#Область Один\nПроцедура А()\nКонецПроцедуры',
      error: /#Область is never closed/,
    },
    'a stray #КонецЕсли': {
      source: '#Область Один\n#КонецЕсли',
      error: /#КонецЕсли without #Если/,
    },
  };
  for (const [problem, { source, error }] of Object.entries(broken)) {
    it(problem, () => {
      expect(parseBsl(source).errors.join('\n')).to.match(error);
    });
  }

  it('accepts "" escapes, | continuation lines, comments, keywords in strings and English aliases', () => {
    const module = parseBsl(
      [
        '&НаКлиенте',
        'Функция А(Знач Б = "", В = Неопределено) Экспорт',
        '\tТекст = "Если ""кавычки"" // не комментарий',
        '\t|КонецЕсли";',
        "\tДата = '20240101'; // Если в комментарии",
        '\tIf Б Then',
        '\t\tВозврат Объект.Если;',
        '\tEndIf;',
        'КонецФункции',
      ].join('\n'),
    );
    expect(module.errors).to.deep.equal([]);
    expect(module.methods).to.have.length(1);
    expect(module.methods[0]).to.include({
      name: 'А',
      exported: true,
      directive: '&НаКлиенте',
      startLine: 2,
      endLine: 9,
    });
    expect(module.methods[0]?.parameters).to.deep.equal(['Б', 'В']);
    expect(module.strings.map((literal) => literal.value)).to.deep.equal([
      '',
      'Если "кавычки" // не комментарий\nКонецЕсли',
    ]);
  });
});
