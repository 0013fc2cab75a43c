using BlockTorrent.Service.Options;
using BlockTorrent.Service.Target;
using Microsoft.Extensions.Configuration;

namespace BlockTorrent.Service.Tests;

public sealed class TargetStallTimeoutTests
{
    [Fact]
    public void TheTargetStallTimeoutSettingReachesTheDeploymentOptions()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Target:StallTimeout"] = "00:07:30" })
            .Build();
        TargetOptions target = configuration.GetSection("Target").Get<TargetOptions>()!;

        DeployOptions deployOptions = TargetService.CreateDeployOptions(target, lsd: false);

        Assert.Equal(TimeSpan.FromSeconds(450), deployOptions.StallTimeout);
    }

    [Fact]
    public void ATargetWithoutAStallTimeoutSettingKeepsTheLibraryDefault() =>
        Assert.Equal(new DeployOptions().StallTimeout, TargetService.CreateDeployOptions(new TargetOptions(), lsd: false).StallTimeout);
}
