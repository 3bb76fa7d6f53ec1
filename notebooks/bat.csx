// The suite's library in any .NET Interactive C# kernel (Jupyter, VS Code, dotnet-repl, `bat notebook run`):
// a notebook's first cell is `#load "bat.csx"`. Build the library first (`./bat` or `dotnet build -c Release`).
#r "../lib/Bat.Cli/bin/Release/net10.0/Bat.Core.dll"
#r "../lib/Bat.Cli/bin/Release/net10.0/TorchSharp.dll"
// Loads TorchSharp's native libraries from the build output (Bat.TorchNative) before a cell's first torch call.
Bat.TorchNative.Load();
