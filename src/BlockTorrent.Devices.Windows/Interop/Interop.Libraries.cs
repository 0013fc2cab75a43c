namespace BlockTorrent.Devices.Windows;

// Interop follows dotnet/runtime: one partial Interop class, a nested class per native library, one import per file.
internal static partial class Interop
{
    internal static class Libraries
    {
        internal const string Kernel32 = "kernel32.dll";
    }
}
