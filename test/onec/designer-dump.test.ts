import { expect } from 'chai';
import { dumpLayout, filesUnder, readBytes, readText, readXml, SOURCES } from './lib/dump.ts';
import { child, childrenNamed, descendants, russian, type XmlElement } from './lib/xml.ts';

/*
 * The Designer XML dump in onec/src checked the way the Designer would read it, without a 1C
 * platform. Vocabulary, element order and namespaces come from real dumps: vanessa-opensource/
 * vanessa-runner epf/* (format 2.4: ExternalDataProcessor roots, form metadata, InputField,
 * CheckBoxField, Button, Command), Pr-Mex/vanessa-automation (Attribute property list,
 * ReadOnly/TitleLocation/MultiLine order, number qualifiers), voskorbin/1c-ai-assistant
 * (HTMLDocumentField, UsualGroup, ValueTable columns).
 */

/**
 * The dump format version. 2.4 is what platform 8.3.10 writes (vanessa-automation's sources needed
 * 8.3.10 while at 2.4; 8.3.14 writes 2.8, 8.3.15 2.9, 8.3.20 2.13, 8.3.27 2.20), and a platform
 * loads its own and older versions — so 8.3.10 and every later 8.3 load these sources.
 */
const FORMAT_VERSION = '2.4';
const EXTERNAL_DATA_PROCESSOR_CLASS_ID = 'c3831ec8-d8d5-4f93-8a22-f9bfae07327f';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const MD_NAMESPACES: Record<string, string> = {
  '': 'http://v8.1c.ru/8.3/MDClasses',
  app: 'http://v8.1c.ru/8.2/managed-application/core',
  cfg: 'http://v8.1c.ru/8.1/data/enterprise/current-config',
  cmi: 'http://v8.1c.ru/8.2/managed-application/cmi',
  ent: 'http://v8.1c.ru/8.1/data/enterprise',
  lf: 'http://v8.1c.ru/8.2/managed-application/logform',
  style: 'http://v8.1c.ru/8.1/data/ui/style',
  sys: 'http://v8.1c.ru/8.1/data/ui/fonts/system',
  v8: 'http://v8.1c.ru/8.1/data/core',
  v8ui: 'http://v8.1c.ru/8.1/data/ui',
  web: 'http://v8.1c.ru/8.1/data/ui/colors/web',
  win: 'http://v8.1c.ru/8.1/data/ui/colors/windows',
  xen: 'http://v8.1c.ru/8.3/xcf/enums',
  xpr: 'http://v8.1c.ru/8.3/xcf/predef',
  xr: 'http://v8.1c.ru/8.3/xcf/readable',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
};
const FORM_NAMESPACES: Record<string, string> = {
  '': 'http://v8.1c.ru/8.3/xcf/logform',
  app: MD_NAMESPACES.app as string,
  cfg: MD_NAMESPACES.cfg as string,
  dcscor: 'http://v8.1c.ru/8.1/data-composition-system/core',
  dcsset: 'http://v8.1c.ru/8.1/data-composition-system/settings',
  ent: MD_NAMESPACES.ent as string,
  lf: MD_NAMESPACES.lf as string,
  style: MD_NAMESPACES.style as string,
  sys: MD_NAMESPACES.sys as string,
  v8: MD_NAMESPACES.v8 as string,
  v8ui: MD_NAMESPACES.v8ui as string,
  web: MD_NAMESPACES.web as string,
  win: MD_NAMESPACES.win as string,
  xr: MD_NAMESPACES.xr as string,
  xs: MD_NAMESPACES.xs as string,
  xsi: MD_NAMESPACES.xsi as string,
};

const MULTILANG = ['v8:item', 'v8:lang', 'v8:content'];
const TYPES = [
  'Type',
  'v8:Type',
  'v8:StringQualifiers',
  'v8:Length',
  'v8:AllowedLength',
  'v8:NumberQualifiers',
  'v8:Digits',
  'v8:FractionDigits',
  'v8:AllowedSign',
];
/** An object attribute's properties, in the order every real dump writes them. */
const ATTRIBUTE_PROPERTIES = [
  'Name',
  'Synonym',
  'Comment',
  'Type',
  'PasswordMode',
  'Format',
  'EditFormat',
  'ToolTip',
  'MarkNegatives',
  'Mask',
  'MultiLine',
  'ExtendedEdit',
  'MinValue',
  'MaxValue',
  'FillChecking',
  'ChoiceFoldersAndItems',
  'ChoiceParameterLinks',
  'ChoiceParameters',
  'QuickChoice',
  'CreateOnInput',
  'ChoiceForm',
  'LinkByType',
  'ChoiceHistoryOnInput',
];

/** Every element name each kind of file may use: nothing invented. */
const VOCABULARY = {
  root: new Set([
    'MetaDataObject',
    'ExternalDataProcessor',
    'InternalInfo',
    'xr:ContainedObject',
    'xr:ClassId',
    'xr:ObjectId',
    'xr:GeneratedType',
    'xr:TypeId',
    'xr:ValueId',
    'Properties',
    'DefaultForm',
    'AuxiliaryForm',
    'ChildObjects',
    'Attribute',
    'Form',
    ...ATTRIBUTE_PROPERTIES,
    ...MULTILANG,
    ...TYPES,
  ]),
  formMetadata: new Set([
    'MetaDataObject',
    'Form',
    'Properties',
    'Name',
    'Synonym',
    'Comment',
    'FormType',
    'IncludeHelpInContents',
    'UsePurposes',
    'v8:Value',
    'ExtendedPresentation',
    ...MULTILANG,
  ]),
  form: new Set([
    'Form',
    'Title',
    'AutoTitle',
    'AutoCommandBar',
    'Events',
    'Event',
    'ChildItems',
    'Pages',
    'Page',
    'UsualGroup',
    'Group',
    'Representation',
    'ShowTitle',
    'Behavior',
    'Collapsed',
    'ControlRepresentation',
    'InputHint',
    'InputField',
    'CheckBoxField',
    'HTMLDocumentField',
    'Button',
    'DataPath',
    'TitleLocation',
    'Height',
    'MultiLine',
    'PasswordMode',
    'CheckBoxType',
    'DefaultButton',
    'CommandName',
    'ContextMenu',
    'ExtendedTooltip',
    'Attributes',
    'Attribute',
    'MainAttribute',
    'Columns',
    'Column',
    'Commands',
    'Command',
    'ToolTip',
    'Action',
    ...MULTILANG,
    ...TYPES,
  ]),
};

/** Child order of the form's elements, as the Designer writes it. */
const FORM_ORDER: Record<string, string[]> = {
  Form: ['Title', 'AutoTitle', 'AutoCommandBar', 'Events', 'ChildItems', 'Attributes', 'Commands'],
  Pages: ['ExtendedTooltip', 'ChildItems'],
  Page: ['Title', 'ExtendedTooltip', 'ChildItems'],
  UsualGroup: [
    'Title',
    'Group',
    'Behavior',
    'Collapsed',
    'ControlRepresentation',
    'Representation',
    'ShowTitle',
    'ExtendedTooltip',
    'ChildItems',
  ],
  InputField: [
    'DataPath',
    'TitleLocation',
    'InputHint',
    'Height',
    'MultiLine',
    'PasswordMode',
    'ContextMenu',
    'ExtendedTooltip',
    'Events',
  ],
  CheckBoxField: ['DataPath', 'TitleLocation', 'CheckBoxType', 'ContextMenu', 'ExtendedTooltip', 'Events'],
  HTMLDocumentField: ['DataPath', 'TitleLocation', 'Height', 'ContextMenu', 'ExtendedTooltip', 'Events'],
  Button: ['Type', 'DefaultButton', 'CommandName', 'ExtendedTooltip'],
  Attribute: ['Title', 'Type', 'MainAttribute', 'Columns'],
  Column: ['Title', 'Type'],
  Command: ['Title', 'ToolTip', 'Action'],
};
const ITEMS = new Set(['Pages', 'Page', 'UsualGroup', 'InputField', 'CheckBoxField', 'HTMLDocumentField', 'Button']);
const FIELDS = new Set(['InputField', 'CheckBoxField', 'HTMLDocumentField']);

function declaredNamespaces(root: XmlElement): Record<string, string> {
  const declared: Record<string, string> = {};
  for (const [name, value] of Object.entries(root.attributes)) {
    if (name === 'xmlns') declared[''] = value;
    else if (name.startsWith('xmlns:')) declared[name.slice(6)] = value;
  }
  return declared;
}

/** Form items (with ChildItems nesting), the form's AutoCommandBar included. */
function formItems(form: XmlElement): XmlElement[] {
  return descendants(form).filter((element) => ITEMS.has(element.name) || element.name === 'AutoCommandBar');
}

describe('onec: the Designer dump in onec/src', () => {
  const layout = dumpLayout();
  const xmlFiles = [layout.root, ...layout.forms.flatMap((form) => [form.metadata, form.form])];
  let processor: XmlElement;
  let properties: XmlElement;
  let objectAttributes: XmlElement[];
  before(() => {
    processor = child(readXml(layout.root), 'ExternalDataProcessor');
    properties = child(processor, 'Properties');
    objectAttributes = childrenNamed(child(processor, 'ChildObjects'), 'Attribute');
  });
  const attributeName = (attribute: XmlElement) => child(child(attribute, 'Properties'), 'Name').text;

  it('holds exactly the files of one external data processor with one form', () => {
    expect(layout.forms.map((form) => form.name)).to.deep.equal(['Форма']);
    const expected = [
      layout.root,
      layout.objectModule,
      ...layout.forms.flatMap((form) => Object.values(form).slice(1)),
    ];
    expect(filesUnder(SOURCES).sort()).to.deep.equal([...expected].sort());
  });

  it('writes every file as UTF-8 with a byte-order mark and LF line ends, like a real dump in git', () => {
    for (const file of filesUnder(SOURCES)) {
      const bytes = readBytes(file);
      expect([...bytes.subarray(0, 3)], file).to.deep.equal([0xef, 0xbb, 0xbf]);
      expect(() => readText(file), file).not.to.throw();
      expect(bytes.includes(0x0d), `${file} has CR characters`).to.equal(false);
    }
  });

  it('has well-formed XML in every file, each start tag indented by tabs to its depth', () => {
    for (const file of xmlFiles) {
      const document = readXml(file); // throws with the line on any well-formedness error
      for (const element of descendants(document)) {
        if (element.indent !== undefined) {
          expect(element.indent, `${file} line ${element.line}`).to.equal('\t'.repeat(element.depth));
        }
      }
    }
  });

  it('declares the namespace sets of real dumps and one format version everywhere', () => {
    for (const file of xmlFiles) {
      const document = readXml(file);
      const isForm = document.name === 'Form';
      expect(document.name, file).to.equal(isForm ? 'Form' : 'MetaDataObject');
      expect(declaredNamespaces(document), file).to.deep.equal(isForm ? FORM_NAMESPACES : MD_NAMESPACES);
      expect(document.attributes.version, file).to.equal(FORMAT_VERSION);
    }
  });

  it('uses only the element vocabulary of real dumps', () => {
    const vocabularyOf = (file: string) =>
      file === layout.root
        ? VOCABULARY.root
        : layout.forms.some((form) => form.form === file)
          ? VOCABULARY.form
          : VOCABULARY.formMetadata;
    for (const file of xmlFiles) {
      const allowed = vocabularyOf(file);
      for (const element of descendants(readXml(file))) {
        expect(allowed.has(element.name), `${file} line ${element.line}: <${element.name}>`).to.equal(true);
      }
    }
  });

  it('has valid, unique UUIDs and the ExternalDataProcessor class id', () => {
    const seen = new Map<string, string>();
    for (const file of xmlFiles) {
      for (const element of descendants(readXml(file))) {
        const values = [element.attributes.uuid];
        if (['xr:ObjectId', 'xr:TypeId', 'xr:ValueId'].includes(element.name)) values.push(element.text);
        for (const value of values) {
          if (value === undefined) continue;
          expect(value, `${file} line ${element.line}`).to.match(UUID);
          expect(seen.has(value), `${value} in ${file} also in ${seen.get(value)}`).to.equal(false);
          seen.set(value, file);
        }
      }
    }
    expect(seen.size).to.be.greaterThan(10);
    const contained = child(child(processor, 'InternalInfo'), 'xr:ContainedObject');
    expect(child(contained, 'xr:ClassId').text).to.equal(EXTERNAL_DATA_PROCESSOR_CLASS_ID);
  });

  it('names the processor in Latin with a Russian synonym, consistently with its files', () => {
    const name = child(properties, 'Name').text;
    expect(name).to.match(/^[A-Za-z][A-Za-z0-9_]*$/);
    expect(layout.name).to.equal(name);
    expect(russian(child(properties, 'Synonym'))).to.match(/[А-Яа-яЁё]/);
    const generated = child(child(processor, 'InternalInfo'), 'xr:GeneratedType');
    expect(generated.attributes).to.deep.equal({ name: `ExternalDataProcessorObject.${name}`, category: 'Object' });
    expect(properties.children.map((element) => element.name)).to.deep.equal([
      'Name',
      'Synonym',
      'Comment',
      'DefaultForm',
      'AuxiliaryForm',
    ]);
  });

  it('points DefaultForm at a form listed in ChildObjects, whose files exist and name it', () => {
    const listed = childrenNamed(child(processor, 'ChildObjects'), 'Form').map((form) => form.text);
    expect(listed).to.deep.equal(layout.forms.map((form) => form.name));
    const name = child(properties, 'Name').text;
    const defaultForm = child(properties, 'DefaultForm').text;
    const formName = /^ExternalDataProcessor\.(\w+)\.Form\.(.+)$/u.exec(defaultForm);
    expect(formName?.[1]).to.equal(name);
    expect(layout.forms.map((form) => form.name)).to.include(formName?.[2]);
    for (const form of layout.forms) {
      const metadata = child(readXml(form.metadata), 'Form');
      const metadataProperties = child(metadata, 'Properties');
      expect(child(metadataProperties, 'Name').text).to.equal(form.name);
      expect(child(metadataProperties, 'FormType').text).to.equal('Managed');
      for (const purpose of childrenNamed(child(metadataProperties, 'UsePurposes'), 'v8:Value')) {
        expect(purpose.attributes['xsi:type']).to.equal('app:ApplicationUsePurpose');
        expect(['PersonalComputer', 'MobileDevice']).to.include(purpose.text);
      }
      const main = childrenNamed(child(readXml(form.form), 'Attributes'), 'Attribute').filter(
        (attribute) => childrenNamed(attribute, 'MainAttribute')[0]?.text === 'true',
      );
      expect(main.map((attribute) => attribute.attributes.name)).to.deep.equal(['Объект']);
      expect(child(child(main[0] as XmlElement, 'Type'), 'v8:Type').text).to.equal(
        `cfg:ExternalDataProcessorObject.${name}`,
      );
    }
  });

  it('lists attributes before forms in ChildObjects, each attribute with the full property sequence', () => {
    const order = child(processor, 'ChildObjects').children.map((element) => element.name);
    expect(order.lastIndexOf('Attribute')).to.be.lessThan(order.indexOf('Form'));
    for (const attribute of objectAttributes) {
      const names = child(attribute, 'Properties').children.map((element) => element.name);
      expect(names, attributeName(attribute)).to.deep.equal(ATTRIBUTE_PROPERTIES);
    }
  });

  it('has the connection attributes with their types; the API key is a password field', () => {
    const typeOf = (attribute: XmlElement) => child(child(child(attribute, 'Properties'), 'Type'), 'v8:Type').text;
    const byName = new Map(objectAttributes.map((attribute) => [attributeName(attribute), attribute]));
    expect([...byName.keys()]).to.have.members([
      'АдресСервера',
      'КлючAPI',
      'Модель',
      'Температура',
      'Таймаут',
      'ПроверятьСертификат',
      'ИспользоватьСистемныйПрокси',
      'МаксимумСообщений',
      'ПроксиСервер',
      'ПроксиПорт',
      'ПроксиПользователь',
      'ПроксиПароль',
      'ПроксиНеДляЛокальныхАдресов',
      'ФайлСертификатовУЦ',
    ]);
    const expectedTypes: Record<string, string> = {
      АдресСервера: 'xs:string',
      КлючAPI: 'xs:string',
      Модель: 'xs:string',
      Температура: 'xs:decimal',
      Таймаут: 'xs:decimal',
      ПроверятьСертификат: 'xs:boolean',
      ИспользоватьСистемныйПрокси: 'xs:boolean',
      МаксимумСообщений: 'xs:decimal',
      ПроксиСервер: 'xs:string',
      ПроксиПорт: 'xs:decimal',
      ПроксиПароль: 'xs:string',
      ПроксиНеДляЛокальныхАдресов: 'xs:boolean',
      ФайлСертификатовУЦ: 'xs:string',
    };
    for (const [name, type] of Object.entries(expectedTypes))
      expect(typeOf(byName.get(name) as XmlElement)).to.equal(type);
    for (const [name, attribute] of byName) {
      const password = child(child(attribute, 'Properties'), 'PasswordMode').text;
      expect(password, name).to.equal(name === 'КлючAPI' || name === 'ПроксиПароль' ? 'true' : 'false');
    }
    const qualifiers = child(
      child(child(byName.get('Температура') as XmlElement, 'Properties'), 'Type'),
      'v8:NumberQualifiers',
    );
    expect(Number(child(qualifiers, 'v8:FractionDigits').text)).to.be.greaterThan(0);
    // In client-server mode the 1C server makes the requests: the network settings must say so.
    const tooltip = (name: string) => russian(child(child(byName.get(name) as XmlElement, 'Properties'), 'ToolTip'));
    for (const name of [
      'АдресСервера',
      'ПроверятьСертификат',
      'ИспользоватьСистемныйПрокси',
      'ПроксиСервер',
      'ФайлСертификатовУЦ',
    ]) {
      expect(tooltip(name), name).to.match(/сервер[а-я]* 1С/);
    }
    for (const name of ['ПроверятьСертификат', 'ИспользоватьСистемныйПрокси', 'ПроксиСервер']) {
      expect(tooltip(name), name).to.contain('не компьютера пользователя');
    }
    // The gateway refuses a temperature above 2: the field should not offer one.
    const maximum = child(child(byName.get('Температура') as XmlElement, 'Properties'), 'MaxValue');
    expect(maximum.attributes['xsi:type']).to.equal('xs:decimal');
    expect(maximum.text).to.equal('2');
  });

  for (const form of layout.forms) {
    describe(`form ${form.name}`, () => {
      let document: XmlElement;
      let items: XmlElement[];
      let formAttributes: XmlElement[];
      let commands: XmlElement[];
      before(() => {
        document = readXml(form.form);
        items = formItems(document);
        formAttributes = childrenNamed(child(document, 'Attributes'), 'Attribute');
        commands = childrenNamed(child(document, 'Commands'), 'Command');
      });

      it('writes children in the Designer order and the AutoCommandBar as id -1', () => {
        for (const element of descendants(document)) {
          const order = FORM_ORDER[element.name];
          if (order === undefined) continue;
          const positions = element.children.map((inner) => order.indexOf(inner.name));
          expect(positions, `<${element.name}> line ${element.line}`).not.to.include(-1);
          expect(positions, `<${element.name}> line ${element.line}`).to.deep.equal(
            [...positions].sort((a, b) => a - b),
          );
        }
        const bar = child(document, 'AutoCommandBar');
        expect(bar.attributes).to.deep.equal({ name: 'ФормаКоманднаяПанель', id: '-1' });
      });

      it('numbers items, attributes and commands uniquely within each section', () => {
        const itemIds = descendants(child(document, 'ChildItems'))
          .filter((element) => element.attributes.id !== undefined)
          .map((element) => element.attributes.id as string);
        const attributeIds = descendants(child(document, 'Attributes'))
          .filter((element) => element.attributes.id !== undefined)
          .map((element) => element.attributes.id as string);
        const commandIds = commands.map((command) => command.attributes.id as string);
        for (const ids of [[...itemIds, '-1'], attributeIds, commandIds]) {
          for (const id of ids) expect(id).to.match(/^-?\d+$/);
          expect(new Set(ids).size, ids.join(',')).to.equal(ids.length);
        }
        const names = descendants(child(document, 'ChildItems'))
          .filter((element) => element.attributes.name !== undefined && element.name !== 'Event')
          .map((element) => element.attributes.name as string);
        expect(new Set(names).size).to.equal(names.length);
      });

      it('gives every item its extended tooltip and every field its context menu, named after it', () => {
        for (const item of items.filter((element) => element.name !== 'AutoCommandBar')) {
          const name = item.attributes.name as string;
          expect(child(item, 'ExtendedTooltip').attributes.name).to.equal(`${name}РасширеннаяПодсказка`);
          if (FIELDS.has(item.name)) {
            expect(child(item, 'ContextMenu').attributes.name).to.equal(`${name}КонтекстноеМеню`);
          }
        }
      });

      it('binds every DataPath to a form attribute or an object attribute', () => {
        const objectNames = new Set(objectAttributes.map(attributeName));
        const formNames = new Set(formAttributes.map((attribute) => attribute.attributes.name));
        const paths = descendants(document).filter((element) => element.name === 'DataPath');
        expect(paths.length).to.be.greaterThan(5);
        for (const path of paths) {
          const [head, tail, ...rest] = path.text.split('.');
          expect(rest, path.text).to.deep.equal([]);
          if (head === 'Объект') expect(objectNames.has(tail as string), path.text).to.equal(true);
          else if (tail === undefined) expect(formNames.has(head), path.text).to.equal(true);
          else {
            const table = formAttributes.find((attribute) => attribute.attributes.name === head);
            const columns =
              table === undefined ? [] : descendants(table).filter((element) => element.name === 'Column');
            expect(
              columns.map((column) => column.attributes.name),
              path.text,
            ).to.include(tail);
          }
        }
      });

      it('shows the conversation in an HTML document field bound to a string attribute', () => {
        const html = items.filter((item) => item.name === 'HTMLDocumentField');
        expect(html).to.have.length(1);
        const bound = formAttributes.find(
          (attribute) => attribute.attributes.name === child(html[0] as XmlElement, 'DataPath').text,
        );
        expect(child(child(bound as XmlElement, 'Type'), 'v8:Type').text).to.equal('xs:string');
      });

      it('has the Send, New chat and Refresh models commands, each on a button, each button on a command', () => {
        const commandNames = commands.map((command) => command.attributes.name);
        expect(commandNames).to.have.members(['Отправить', 'НовыйЧат', 'ОбновитьМодели', 'ПроверитьПодключение']);
        const buttons = items.filter((item) => item.name === 'Button');
        const targets = buttons.map((button) => child(button, 'CommandName').text);
        for (const target of targets) expect(commandNames.map((name) => `Form.Command.${name}`)).to.include(target);
        for (const name of commandNames) expect(targets).to.include(`Form.Command.${name}`);
        expect(buttons.filter((button) => childrenNamed(button, 'DefaultButton')[0]?.text === 'true')).to.have.length(
          1,
        );
      });

      it('folds the system prompt away and hints that Ctrl+Enter sends', () => {
        const group = items.find((item) => item.attributes.name === 'ГруппаСистемныйПромпт') as XmlElement;
        expect(group.name).to.equal('UsualGroup');
        expect(child(group, 'Behavior').text).to.equal('Collapsible');
        expect(child(group, 'Collapsed').text).to.equal('true');
        const inside = descendants(group).filter((element) => element.name === 'InputField');
        expect(inside.map((field) => child(field, 'DataPath').text)).to.deep.equal(['СистемныйПромпт']);
        const prompt = items.find((item) => item.attributes.name === 'Промпт') as XmlElement;
        expect(russian(child(prompt, 'InputHint'))).to.contain('Ctrl+Enter');
        // Ctrl+Enter in a multi-line field presses the default button: «Отправить» must be it.
        const send = items.find((item) => item.attributes.name === 'Отправить') as XmlElement;
        expect(child(send, 'DefaultButton').text).to.equal('true');
      });

      it('puts the prompt and the system prompt in multi-line fields and the key in a password field', () => {
        const field = (path: string) =>
          items.find((item) => item.name === 'InputField' && child(item, 'DataPath').text === path) as XmlElement;
        for (const path of ['Промпт', 'СистемныйПромпт']) expect(child(field(path), 'MultiLine').text).to.equal('true');
        expect(child(field('Объект.КлючAPI'), 'PasswordMode').text).to.equal('true');
        for (const path of ['Объект.Модель', 'Объект.Температура', 'Объект.АдресСервера', 'Объект.Таймаут']) {
          expect(field(path), path).not.to.equal(undefined);
        }
      });
    });
  }
});
