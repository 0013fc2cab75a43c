using BlockTorrent.Samples;
using BlockTorrent.Service.Options;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Depot;

/// <summary>
/// The depot's keys, loaded (or made, in the state folder) once and shared by the seeding and by enrolment: the
/// signing key (<see cref="DepotSigner"/>) and the TLS swarm's authority and peer certificate
/// (<see cref="DepotSwarmTls"/>). A failure to load them is kept and raised to every user: the depot then stops with
/// it, and enrolment answers 503.
/// </summary>
internal sealed class DepotCredentials : IDisposable
{
    private readonly Lazy<(DepotSigner? Signer, DepotSwarmTls Tls)> _loaded;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="options">The service's settings.</param>
    public DepotCredentials(IOptions<ImagingServiceOptions> options)
    {
        _loaded = new(() => Load(options.Value), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Gets the signing key; <see langword="null"/> when the depot signs nothing.</summary>
    /// <exception cref="ArgumentException">A key or certificate cannot be read or made; the message says which.</exception>
    public DepotSigner? Signer => _loaded.Value.Signer;

    /// <summary>Gets the TLS swarm's certificates.</summary>
    /// <exception cref="ArgumentException">A key or certificate cannot be read or made; the message says which.</exception>
    public DepotSwarmTls Tls => _loaded.Value.Tls;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_loaded.IsValueCreated)
        {
            _loaded.Value.Signer?.Dispose();
            _loaded.Value.Tls.Dispose();
        }
    }

    private static (DepotSigner?, DepotSwarmTls) Load(ImagingServiceOptions settings)
    {
        string state = settings.StateDirectory is { Length: > 0 } configured ? configured : ResumeFiles.StateFolder();
        DepotSigner? signer;
        try
        {
            signer = DepotSigner.Load(settings.Depot, state);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"cannot use the signing key: {e.Message}", e);
        }

        try
        {
            return (signer, DepotSwarmTls.Load(settings.Depot, state));
        }
        catch
        {
            signer?.Dispose();
            throw;
        }
    }
}
