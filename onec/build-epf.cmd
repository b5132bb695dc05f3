@echo off
rem Builds build\GatewayChat.epf from the Designer sources in src\ (dump format 2.4).
rem Needs 1C:Enterprise 8.3.10 or later; set V8 to its 1cv8.exe, for example:
rem   set "V8=C:\Program Files\1cv8\8.3.24.1467\bin\1cv8.exe"
rem See README.md (in Russian) for details.
setlocal
if "%V8%"=="" set "V8=1cv8.exe"
set "HERE=%~dp0"
set "BUILD=%HERE%build"
if not exist "%BUILD%" mkdir "%BUILD%"

rem An empty file infobase is enough: the processing uses primitive types only.
if not exist "%BUILD%\ib\1Cv8.1CD" (
  "%V8%" CREATEINFOBASE File="%BUILD%\ib" /DisableStartupDialogs /DisableStartupMessages /Out "%BUILD%\create-ib.log"
  if errorlevel 1 goto failedib
)
"%V8%" DESIGNER /F "%BUILD%\ib" /DisableStartupDialogs /DisableStartupMessages /LoadExternalDataProcessorOrReportFromFiles "%HERE%src\GatewayChat.xml" "%BUILD%\GatewayChat.epf" /Out "%BUILD%\build.log"
if errorlevel 1 goto failed
echo Built %BUILD%\GatewayChat.epf
exit /b 0

:failed
echo Build failed; the Designer's log follows (also in %BUILD%).
type "%BUILD%\build.log" 2>nul
exit /b 1

:failedib
echo Could not create the empty infobase; its log follows.
type "%BUILD%\create-ib.log" 2>nul
exit /b 1
