using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// A swarm's extensions by name: gives each advertised one the id peers send its messages under (1, 2, … in the
/// order registered), writes our extended handshake from them, and finds the handler of an incoming message by an
/// array lookup, so dispatch allocates nothing.
/// </summary>
internal sealed class ExtensionRegistry
{
    private readonly List<PeerExtension> _extensions = [];
    private readonly PeerExtension?[] _byLocalId = new PeerExtension?[byte.MaxValue + 1];
    private readonly PeerExtension?[] _byCoreMessage = new PeerExtension?[byte.MaxValue + 1];
    private byte _nextId = 1;

    /// <summary>Gets the registered extensions, in the order registered.</summary>
    public IReadOnlyList<PeerExtension> All => _extensions;

    /// <summary>Registers an extension.</summary>
    /// <param name="extension">The extension.</param>
    /// <param name="localId">
    /// The id an advertised extension's messages come under, or 0 for the next free one. A fixed id keeps an extension
    /// registered only sometimes (ut_pex, not for private torrents) from moving the ones registered after it.
    /// </param>
    /// <exception cref="InvalidOperationException">The name, the id, or a core message it handles, is taken already.</exception>
    public void Add(PeerExtension extension, byte localId = 0)
    {
        byte wanted = localId != 0 ? localId : _nextId;
        if (extension.IsAdvertised && _byLocalId[wanted] is not null)
        {
            throw new InvalidOperationException($"Extension id {wanted} is taken already.");
        }

        if (Find(extension.Name) is not null)
        {
            throw new InvalidOperationException($"An extension named {extension.Name} is registered already.");
        }

        foreach (MessageId id in extension.CoreMessages)
        {
            if (id == MessageId.Extended || _byCoreMessage[(byte)id] is not null)
            {
                throw new InvalidOperationException($"Message {id} cannot be handled by {extension.Name}: it is taken.");
            }
        }

        foreach (MessageId id in extension.CoreMessages)
        {
            _byCoreMessage[(byte)id] = extension;
        }

        if (extension.IsAdvertised)
        {
            extension.LocalId = wanted;
            _byLocalId[extension.LocalId] = extension;
            while (_nextId < byte.MaxValue && _byLocalId[_nextId] is not null)
            {
                _nextId++;
            }
        }

        extension.Index = _extensions.Count;
        _extensions.Add(extension);
    }

    /// <summary>Finds an extension by name.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The extension, or null.</returns>
    public PeerExtension? Find(string name) => _extensions.Find(e => e.Name == name);

    /// <summary>Finds the handler of a message: by its extension id for an extended message, else by its id.</summary>
    /// <param name="message">The message (not an extended handshake).</param>
    /// <returns>The extension, or null when none handles it.</returns>
    public PeerExtension? For(PeerMessage message) =>
        message.Id == MessageId.Extended ? _byLocalId[message.ExtensionId] : _byCoreMessage[(byte)message.Id];

    /// <summary>Encodes our extended handshake, naming every advertised extension with its id.</summary>
    /// <param name="metadataSize">The info dictionary's size, or 0 when we do not have it.</param>
    /// <param name="listenPort">Our listen port.</param>
    /// <param name="requestQueue">How many requests we queue from one peer.</param>
    /// <returns>The bencoded dictionary.</returns>
    public byte[] EncodeHandshake(int metadataSize, int listenPort, int requestQueue)
    {
        var messages = new List<KeyValuePair<string, byte>>();
        foreach (PeerExtension e in _extensions)
        {
            if (e.IsAdvertised)
            {
                messages.Add(new(e.Name, e.LocalId));
            }
        }

        return ExtensionHandshake.Encode(metadataSize, listenPort, requestQueue, messages);
    }

    /// <summary>Shows every extension a peer's extended handshake.</summary>
    /// <param name="peer">The peer.</param>
    /// <param name="handshake">The handshake in force.</param>
    public void OnHandshake(IExtensionPeer peer, ExtensionHandshake handshake)
    {
        foreach (PeerExtension e in _extensions)
        {
            e.OnHandshake(peer, handshake);
        }
    }

    /// <summary>Runs every extension's periodic work (under the swarm's lock).</summary>
    /// <param name="now">The current timestamp.</param>
    /// <param name="peers">The connected peers.</param>
    public void Tick(long now, IReadOnlyList<IExtensionPeer> peers)
    {
        foreach (PeerExtension e in _extensions)
        {
            e.Tick(now, peers);
        }
    }

    /// <summary>Tells every extension that a peer left (under the swarm's lock).</summary>
    /// <param name="peer">The peer.</param>
    public void OnPeerClosed(IExtensionPeer peer)
    {
        foreach (PeerExtension e in _extensions)
        {
            e.OnPeerClosed(peer);
        }
    }
}
