#!/bin/sh
# Собирает build/GatewayChat.epf из исходников src/ (выгрузка Конфигуратора, формат 2.4).
# Нужна платформа 1С:Предприятие 8.3.10 или новее (лучше - самая старая из тех, где обработку будут
# открывать). Путь к 1cv8 - в переменной V8, например:
#   V8=/opt/1cv8/x86_64/8.3.24.1467/1cv8 ./build-epf.sh
# Конфигуратору и в пакетном режиме нужен X-сервер: без DISPLAY скрипт запускает его через
# xvfb-run (пакет xvfb); XVFB= (пустое значение) отключает обёртку, XVFB="xvfb-run -a -s ..." меняет её.
set -eu
V8="${V8:-1cv8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="$HERE/build"
mkdir -p "$BUILD"

if [ -z "${XVFB+set}" ]; then
  XVFB=""
  if [ -z "${DISPLAY:-}" ]; then
    if command -v xvfb-run >/dev/null 2>&1; then
      XVFB="xvfb-run -a"
    else
      echo "Нет DISPLAY и нет xvfb-run: установите xvfb (apt-get install xvfb) или задайте DISPLAY." >&2
      exit 1
    fi
  fi
fi

failed() {
  echo "$1" >&2
  cat "$2" >&2 || true
  exit 1
}

# Пустая файловая база: обработка использует только примитивные типы, конфигурация не нужна.
if [ ! -f "$BUILD/ib/1Cv8.1CD" ]; then
  # shellcheck disable=SC2086 # XVFB - команда с аргументами
  $XVFB "$V8" CREATEINFOBASE "File=$BUILD/ib" /DisableStartupDialogs /DisableStartupMessages \
    /Out "$BUILD/create-ib.log" || failed "Не удалось создать пустую базу:" "$BUILD/create-ib.log"
fi
# shellcheck disable=SC2086
$XVFB "$V8" DESIGNER /F "$BUILD/ib" /DisableStartupDialogs /DisableStartupMessages \
  /LoadExternalDataProcessorOrReportFromFiles "$HERE/src/GatewayChat.xml" "$BUILD/GatewayChat.epf" \
  /Out "$BUILD/build.log" || failed "Сборка не удалась:" "$BUILD/build.log"
echo "Готово: $BUILD/GatewayChat.epf"
