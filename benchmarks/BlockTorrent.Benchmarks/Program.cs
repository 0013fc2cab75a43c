using BenchmarkDotNet.Running;
using BlockTorrent.Benchmarks.Devices;
using BlockTorrent.Benchmarks.Manifest;

// Writer -> loop device against dd, in one run (root): dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- loop-throughput
if (args.Length > 0 && args[0] == "loop-throughput" && OperatingSystem.IsLinux())
{
    return await LoopDeviceThroughput.RunAsync(args[1..]);
}

// The parts of manifest creation (single-core SHA rates, read rate) and ManifestBuilder against its target:
// dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- manifest-speed
if (args.Length > 0 && args[0] == "manifest-speed")
{
    return await ManifestSpeed.RunAsync(args[1..]);
}

// Run all benchmarks: dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
