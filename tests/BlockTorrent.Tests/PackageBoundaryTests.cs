using System.Reflection;
using System.Runtime.CompilerServices;

namespace BlockTorrent.Tests;

public sealed class PackageBoundaryTests
{
    [Fact]
    public void TheCoreOpensItsInternalsToTestAndBenchmarkAssembliesOnlyNeverToAShippedPackage()
    {
        string[] friends = typeof(BlockTorrentClient).Assembly
            .GetCustomAttributes<InternalsVisibleToAttribute>()
            .Select(attribute => attribute.AssemblyName)
            .ToArray();

        Assert.NotEmpty(friends);
        Assert.All(friends, name => Assert.True(
            name.EndsWith(".Tests", StringComparison.Ordinal) || name.EndsWith(".Benchmarks", StringComparison.Ordinal),
            $"{name} is not a test or benchmark assembly: a shipped package must use the core's public API or shared source."));
    }
}
