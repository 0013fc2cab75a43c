using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace BlockTorrent;

/// <summary>Registers BlockTorrent with a dependency injection container.</summary>
public static class BlockTorrentServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="BlockTorrentClient"/>, configured by <paramref name="configure"/> and logging through
    /// the container's <see cref="ILoggerFactory"/> when there is one. The client binds its listen socket when first resolved.
    /// </summary>
    /// <param name="services">The container.</param>
    /// <param name="configure">Adjusts the client's settings; <see langword="null"/> keeps the defaults.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddBlockTorrent(this IServiceCollection services, Action<BlockTorrentClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider =>
        {
            var options = new BlockTorrentClientOptions();
            configure?.Invoke(options);
            return new BlockTorrentClient(options, provider.GetService<ILoggerFactory>());
        });
        return services;
    }
}
