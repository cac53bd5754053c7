; Inno Setup script for Sigphone (compile with ISCC on Windows; installer/build.py does it).
;   iscc /DAppVersion=0.1.0 /DBundleDir=..\dist\sigphone /O..\dist installer\sigphone.iss
; Per-user install by default (no administrator rights), Start menu entry, optional desktop
; icon, tel: and sigphone: links handled by the running softphone, and an uninstaller that
; asks whether to keep the user's settings and call history.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\dist\sigphone"
#endif

[Setup]
AppId={{6C0F3A52-8F0E-4D7B-9C61-5A1F3E2B7D40}
AppName=Sigphone
AppVersion={#AppVersion}
AppVerName=Sigphone {#AppVersion}
AppPublisher=Sigphone
DefaultDirName={autopf}\Sigphone
DefaultGroupName=Sigphone
DisableProgramGroupPage=yes
; Per-user by default; an administrator may still choose "install for all users".
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputBaseFilename=Sigphone-Setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
UninstallDisplayIcon={app}\sigphone.exe
CloseApplications=yes
ChangesAssociations=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "urlhandlers"; Description: "Open tel: and sigphone: links with Sigphone"; GroupDescription: "Links:"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Sigphone"; Filename: "{app}\sigphone.exe"
Name: "{group}\Sigphone demo (server and two phones)"; Filename: "{app}\sigphone.exe"; Parameters: "--demo"
Name: "{group}\Uninstall Sigphone"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Sigphone"; Filename: "{app}\sigphone.exe"; Tasks: desktopicon

[Registry]
; URL handlers under HKCU (per-user) or HKLM (all users): HKA picks the right one. The
; running softphone receives the link through its single-instance forwarding.
Root: HKA; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: ""; ValueData: "URL:Telephone call"; Flags: uninsdeletekey; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\tel\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\sigphone.exe"",0"; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\tel\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\sigphone.exe"" ""%1"""; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\sigphone"; ValueType: string; ValueName: ""; ValueData: "URL:Sigphone link"; Flags: uninsdeletekey; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\sigphone"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\sigphone\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\sigphone.exe"",0"; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Classes\sigphone\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\sigphone.exe"" ""%1"""; Tasks: urlhandlers
; Offer Sigphone in Windows' "Default apps" list for the tel: protocol. Software\Sigphone itself
; goes too when empty (entries are undone in reverse order: Capabilities first); without it the
; uninstaller left an empty key (installer/windows-on-wine.sh caught it).
Root: HKA; Subkey: "Software\Sigphone"; Flags: uninsdeletekeyifempty; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Sigphone\Capabilities"; ValueType: string; ValueName: "ApplicationName"; ValueData: "Sigphone"; Flags: uninsdeletekey; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Sigphone\Capabilities"; ValueType: string; ValueName: "ApplicationDescription"; ValueData: "Sigphone softphone"; Tasks: urlhandlers
Root: HKA; Subkey: "Software\Sigphone\Capabilities\URLAssociations"; ValueType: string; ValueName: "tel"; ValueData: "tel"; Tasks: urlhandlers
Root: HKA; Subkey: "Software\RegisteredApplications"; ValueType: string; ValueName: "Sigphone"; ValueData: "Software\Sigphone\Capabilities"; Flags: uninsdeletevalue; Tasks: urlhandlers

[Run]
Filename: "{app}\sigphone.exe"; Description: "{cm:LaunchProgram,Sigphone}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Close a running softphone before its files are removed.
Filename: "{sys}\taskkill.exe"; Parameters: "/IM sigphone.exe /F"; Flags: runhidden; RunOnceId: "StopSigphone"

[Code]
// Settings, call history and logs live in the user's folders (platformdirs):
//   %LOCALAPPDATA%\sigphone  (data, logs)   and   %APPDATA%\sigphone  (settings)
// Program files always go; ask before removing the user's own data.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
  begin
    if not UninstallSilent() and
       (MsgBox('Also remove your Sigphone settings, call history and logs?',
               mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES) then
    begin
      DelTree(ExpandConstant('{localappdata}\sigphone'), True, True, True);
      DelTree(ExpandConstant('{userappdata}\sigphone'), True, True, True);
    end;
  end;
end;
