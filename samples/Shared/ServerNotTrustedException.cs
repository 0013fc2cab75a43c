namespace BlockTorrent.Samples;

/// <summary>An https server's certificate is not trusted (see <see cref="ServerTrust"/>): the manifest was not fetched, and nothing was written.</summary>
internal sealed class ServerNotTrustedException(string message, Exception innerException) : Exception(message, innerException);
