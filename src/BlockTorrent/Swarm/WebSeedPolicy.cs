namespace BlockTorrent.Swarm;

/// <summary>A deployment's web seeds and when they fill in (from <c>DeployOptions</c>).</summary>
/// <param name="Urls">The web seeds: the manifest's <c>url-list</c> and the deployment's own.</param>
/// <param name="Http">The client their requests go through.</param>
/// <param name="Delay">How long the peers have before web seeds fill in at all.</param>
/// <param name="PeersBelow">The peers' combined rate, in bytes per second, below which web seeds fetch any wanted piece.</param>
internal sealed record WebSeedPolicy(IReadOnlyList<Uri> Urls, HttpClient Http, TimeSpan Delay, long PeersBelow);
