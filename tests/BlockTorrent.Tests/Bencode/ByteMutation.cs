namespace BlockTorrent.Tests.Bencode;

/// <summary>One random edit of an encoding: replace, insert or remove a byte, for codec fuzzing properties.</summary>
internal static class ByteMutation
{
    public static byte[] Apply(byte[] encoded, Tuple<int, byte, int> mutation)
    {
        (int position, byte replacement, int kind) = mutation;
        var list = new List<byte>(encoded);
        int at = Math.Abs(position % (encoded.Length + 1));
        switch (Math.Abs(kind % 3))
        {
            case 0 when at < list.Count:
                list[at] = replacement;
                break;
            case 1:
                list.Insert(at, replacement);
                break;
            default:
                if (at < list.Count)
                {
                    list.RemoveAt(at);
                }

                break;
        }

        return [.. list];
    }
}
