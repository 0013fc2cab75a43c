using BenchmarkDotNet.Running;
using BlockTorrent.Benchmarks.Devices;
using BlockTorrent.Benchmarks.Manifest;
using BlockTorrent.Benchmarks.Swarm;

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

// Seekable compressed images: CPU per GiB to make, decode and re-encode (serve) one:
// dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- compression-speed
if (args.Length > 0 && args[0] == "compression-speed")
{
    return await CompressionSpeed.RunAsync(args[1..]);
}

// This machine's limits and BlockTorrent against them, as a table and JSON (benchmarks/README.md):
// dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- machine [--device /dev/X --yes-erase-device] [--json FILE]
if (args.Length > 0 && args[0] == "machine" && OperatingSystem.IsLinux())
{
    return await BlockTorrent.Benchmarks.Machine.MachineBenchmark.RunAsync(args[1..]);
}

// The swarm simulation driven by the library's policy objects, 10 to 1000 targets:
// dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- simulate [--targets 100,1000] [--csv FILE]
if (args.Length > 0 && args[0] == "simulate")
{
    return await BlockTorrent.Benchmarks.Simulation.SimulationCommand.RunAsync(args[1..]);
}

// Swarm benchmarks (loopback, separate processes; see benchmarks/README.md).
if (args.Length > 0 && OperatingSystem.IsLinux())
{
    switch (args[0])
    {
        case "pair-throughput":
            return await PairBenchmarks.PairThroughputAsync(args[1..]);
        case "half-zero":
            return await PairBenchmarks.HalfZeroAsync(args[1..]);
        case "rss":
            return await PairBenchmarks.RssAsync(args[1..]);
        case "make-image":
            return await PairBenchmarks.MakeImageAsync(args[1..]);
        case "peer":
            return await PeerCommand.RunAsync(args[1..]);
    }
}

// Run all benchmarks: dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
