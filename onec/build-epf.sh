#!/bin/sh
# Собирает build/GatewayChat.epf из исходников src/ (выгрузка Конфигуратора, формат 2.4).
# Нужна платформа 1С:Предприятие 8.3.10 или новее. Путь к 1cv8 - в переменной V8, например:
#   V8=/opt/1cv8/x86_64/8.3.24.1467/1cv8 ./build-epf.sh
set -eu
V8="${V8:-1cv8}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="$HERE/build"
mkdir -p "$BUILD"

# Пустая файловая база: обработка использует только примитивные типы, конфигурация не нужна.
if [ ! -f "$BUILD/ib/1Cv8.1CD" ]; then
  "$V8" CREATEINFOBASE "File=$BUILD/ib" /DisableStartupDialogs /Out "$BUILD/create-ib.log"
fi
if ! "$V8" DESIGNER /F "$BUILD/ib" /DisableStartupDialogs \
  /LoadExternalDataProcessorOrReportFromFiles "$HERE/src/GatewayChat.xml" "$BUILD/GatewayChat.epf" \
  /Out "$BUILD/build.log"; then
  echo "Сборка не удалась:" >&2
  cat "$BUILD/build.log" >&2 || true
  exit 1
fi
echo "Готово: $BUILD/GatewayChat.epf"
