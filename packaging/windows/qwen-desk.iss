; Inno Setup 6 script of the Windows installer of Qwen Desk.
;
; Built by .github/workflows/installers.yml on windows-latest after `python packaging/build.py`:
;   iscc /DAppVersion=0.1.0 packaging\windows\qwen-desk.iss
; Input: dist\qwen-desk\ (PyInstaller onedir with QwenDesk.exe (windowed) and qwen-desk.exe
; (console)), build\stage\qwen-desk.ico (rendered from resources\icons\qwen-desk.svg).
; Output: dist\QwenDesk-<version>-setup.exe.
;
; Start menu entry, optional desktop icon, "Open with Qwen Desk" for .pdf/.docx/.txt/.md
; (added to the OpenWithProgids lists: it never steals the user's default program).
; The uninstaller removes only the program folder and our registry keys: the user's knowledge
; bases, conversations and settings (%LOCALAPPDATA%\QwenDesk, %APPDATA%\QwenDesk) stay.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Qwen Desk"
#define AppExe "QwenDesk.exe"
#define ProgId "QwenDesk.Document"
#define RepoRoot AddBackslash(SourcePath) + "..\.."

[Setup]
AppId={{6F3B2C1A-8E54-4D7B-9C1E-51A2D0C7B9E4}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Qwen Desk developers
DefaultDirName={autopf}\Qwen Desk
DefaultGroupName=Qwen Desk
DisableProgramGroupPage=yes
; Per-user install by default (no admin needed); an admin may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
OutputDir={#RepoRoot}\dist
OutputBaseFilename=QwenDesk-{#AppVersion}-setup
SetupIconFile={#RepoRoot}\build\stage\qwen-desk.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/normal
SolidCompression=yes
LZMANumBlockThreads=2
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#endif

[CustomMessages]
english.AssocTask=Offer "Open with Qwen Desk" for PDF, Word, text and Markdown files
english.DocDescription=Document for Qwen Desk
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
chinesesimplified.AssocTask=为 PDF、Word、文本和 Markdown 文件添加“用 Qwen Desk 打开”
chinesesimplified.DocDescription=Qwen Desk 文档
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "associate"; Description: "{cm:AssocTask}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#RepoRoot}\dist\qwen-desk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; AppUserModelID: "io.github.qwendesk.QwenDesk"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; The document class our entries point to (removed on uninstall).
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "{cm:DocDescription}"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
; "Open with" lists of each extension (only our value is removed on uninstall).
Root: HKA; Subkey: "Software\Classes\.pdf\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.docx\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.txt\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.md\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
; The application itself, for the "Open with > Choose another app" dialog.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".pdf"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".docx"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".txt"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".md"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] for user folders on purpose: uninstalling keeps the user's data.
