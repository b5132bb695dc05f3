/** The page's languages: Russian for the CIS portals' UI languages, English for the rest. */
export type PageLanguage = 'ru' | 'en';

/** Bitrix24's `LANG` (ru, ua, by, kz, en, de…) → the page's language. */
export function pageLanguage(lang: string | undefined): PageLanguage {
  return ['ru', 'ua', 'by', 'kz', 'uk', 'be'].includes((lang ?? '').toLowerCase()) ? 'ru' : 'en';
}

const EN = {
  title: 'GigaChat and Gemini for CoPilot',
  installedTitle: 'The app is installed',
  installedText: 'These engines are registered on your portal. Choose one in the CoPilot settings.',
  installFailedTitle: 'The installation did not finish',
  installFailedText: 'Bitrix24 or the gateway refused a step. The server log has the details.',
  notInstalledTitle: 'The app is not installed on this portal',
  notInstalledText: 'Open the app once as a portal administrator, so its installation page can register the engines.',
  openFromPortal: 'Open this app from your Bitrix24 portal.',
  sessionFailed: 'Bitrix24 did not confirm your session. Reload the app.',
  engines: 'CoPilot engines',
  engine: 'Engine',
  model: 'Model',
  code: 'Code',
  requests: 'Requests',
  tokens: 'Tokens',
  noEngines: 'No engines are registered yet.',
  reregister: 'Register the engines again',
  reregisterHint: 'Brings the engines in line with the gateway settings. Needs a portal administrator.',
  adminOnly: 'Only a portal administrator can register engines.',
  rotate: 'New engine addresses',
  rotateHint:
    'Registers the engines again at new secret addresses; the old ones stop working. Use it if an engine address may have leaked.',
  rotated: 'Done. The old engine addresses no longer work.',
  done: 'Done.',
  tryTitle: 'Try a prompt',
  prompt: 'Prompt',
  promptPlaceholder: 'Write a short greeting for a new colleague',
  send: 'Send',
  answer: 'Answer',
  working: 'Working…',
  howToChoose: 'To use an engine: CoPilot settings → choose the engine for chats, tasks, CRM or the feed.',
};

export type PageTexts = Record<keyof typeof EN, string>;

const RU: PageTexts = {
  title: 'GigaChat и Gemini для CoPilot',
  installedTitle: 'Приложение установлено',
  installedText: 'На портале зарегистрированы эти модели. Выберите нужную в настройках CoPilot.',
  installFailedTitle: 'Установка не завершилась',
  installFailedText: 'Битрикс24 или шлюз отказали на одном из шагов. Подробности — в журнале сервера.',
  notInstalledTitle: 'Приложение не установлено на этом портале',
  notInstalledText:
    'Откройте приложение один раз под администратором портала, чтобы страница установки зарегистрировала модели.',
  openFromPortal: 'Откройте это приложение из вашего портала Битрикс24.',
  sessionFailed: 'Битрикс24 не подтвердил вашу сессию. Перезагрузите приложение.',
  engines: 'Модели CoPilot',
  engine: 'Модель в CoPilot',
  model: 'Модель шлюза',
  code: 'Код',
  requests: 'Запросов',
  tokens: 'Токенов',
  noEngines: 'Модели пока не зарегистрированы.',
  reregister: 'Зарегистрировать модели заново',
  reregisterHint: 'Приводит модели на портале в соответствие с настройками шлюза. Нужны права администратора.',
  adminOnly: 'Регистрировать модели может только администратор портала.',
  rotate: 'Новые адреса моделей',
  rotateHint:
    'Регистрирует модели заново по новым секретным адресам, старые перестают работать. Нажмите, если адрес модели мог попасть к посторонним.',
  rotated: 'Готово. Старые адреса моделей больше не работают.',
  done: 'Готово.',
  tryTitle: 'Проверить запрос',
  prompt: 'Запрос',
  promptPlaceholder: 'Напиши короткое приветствие новому коллеге',
  send: 'Отправить',
  answer: 'Ответ',
  working: 'Выполняется…',
  howToChoose: 'Чтобы включить модель: настройки CoPilot → выберите модель для чатов, задач, CRM или ленты.',
};

export function texts(language: PageLanguage): PageTexts {
  return language === 'ru' ? RU : EN;
}
