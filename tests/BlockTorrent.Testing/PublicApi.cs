using System.Globalization;
using System.Reflection;
using System.Text;
using Xunit;

namespace BlockTorrent.Testing;

/// <summary>
/// The public surface of a shipped assembly as stable, sorted text (one line per type and per member, with
/// signatures and nullability), compared with the file checked in beside the assembly's project
/// (<c>src/&lt;Assembly&gt;/PublicAPI.txt</c>). It stands in for the PublicApiAnalyzers package: every change to the
/// public API shows up in review as a change to that file.
/// </summary>
/// <remarks>Set <c>UPDATE_PUBLIC_API=1</c> and run the test to rewrite the file from the current assembly.</remarks>
public static class PublicApi
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Fails, with the lines added and removed, when the assembly's public API differs from its snapshot.</summary>
    /// <param name="assembly">A shipped assembly (its project is <c>src/&lt;assembly name&gt;</c>).</param>
    public static void AssertMatchesSnapshot(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        string name = assembly.GetName().Name!;
        string path = Path.Combine(RepositoryRoot(), "src", name, "PublicAPI.txt");
        string actual = Describe(assembly);
        if (Environment.GetEnvironmentVariable("UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        string expected = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : string.Empty;
        if (expected == actual)
        {
            return;
        }

        var expectedLines = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var actualLines = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var report = new StringBuilder();
        report.Append(CultureInfo.InvariantCulture, $"The public API of {name} differs from src/{name}/PublicAPI.txt. If the change is intended, run the test with UPDATE_PUBLIC_API=1 to rewrite the file, and commit it.\n");
        foreach (string line in actualLines.Except(expectedLines).Order(StringComparer.Ordinal))
        {
            report.Append("+ ").Append(line).Append('\n');
        }

        foreach (string line in expectedLines.Except(actualLines).Order(StringComparer.Ordinal))
        {
            report.Append("- ").Append(line).Append('\n');
        }

        Assert.Fail(report.ToString());
    }

    /// <summary>Describes the public surface of an assembly: every visible type and its public and protected members.</summary>
    /// <param name="assembly">The assembly.</param>
    /// <returns>Sorted lines, each ending in a newline.</returns>
    public static string Describe(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var context = new NullabilityInfoContext();

        // Each type's line comes first, then its members, types in ordinal order of their names.
        var lines = new List<(string Type, int Order, string Line)>();
        foreach (Type type in assembly.GetExportedTypes())
        {
            string typeName = TypeName(type);
            lines.Add((typeName, 0, DescribeType(type)));
            string prefix = typeName + ".";
            if (type.IsEnum)
            {
                foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
                {
                    lines.Add((typeName, 1, string.Create(CultureInfo.InvariantCulture, $"{prefix}{field.Name} = {Convert.ToInt64(field.GetRawConstantValue(), CultureInfo.InvariantCulture)}")));
                }

                continue;
            }

            foreach (MemberInfo member in type.GetMembers(Declared))
            {
                if (IsVisible(member) && Describe(member, prefix, context) is string line)
                {
                    lines.Add((typeName, 1, line));
                }
            }
        }

        lines.Sort(static (a, b) =>
        {
            int order = string.CompareOrdinal(a.Type, b.Type);
            order = order != 0 ? order : a.Order.CompareTo(b.Order);
            return order != 0 ? order : string.CompareOrdinal(a.Line, b.Line);
        });
        var text = new StringBuilder();
        foreach ((_, _, string line) in lines)
        {
            text.Append(line).Append('\n');
        }

        return text.ToString();
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "BlockTorrent.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No BlockTorrent.sln above {AppContext.BaseDirectory}.");
    }

    private static string DescribeType(Type type)
    {
        string kind = type switch
        {
            { IsInterface: true } => "interface",
            { IsEnum: true } => type.IsDefined(typeof(FlagsAttribute)) ? "[Flags] enum" : "enum",
            { IsValueType: true } => (type.IsDefined(typeof(System.Runtime.CompilerServices.IsReadOnlyAttribute)) ? "readonly " : string.Empty) + "struct",
            _ when typeof(Delegate).IsAssignableFrom(type) => "delegate",
            { IsAbstract: true, IsSealed: true } => "static class",
            { IsAbstract: true } => "abstract class",
            { IsSealed: true } => "sealed class",
            _ => "class",
        };
        var bases = new List<string>();
        if (type is { IsClass: true, BaseType: { } baseType } && baseType != typeof(object) && !typeof(Delegate).IsAssignableFrom(type))
        {
            bases.Add(TypeName(baseType));
        }

        if (!type.IsEnum && !typeof(Delegate).IsAssignableFrom(type))
        {
            bases.AddRange(type.GetInterfaces().Where(i => i.IsVisible).Select(TypeName).Order(StringComparer.Ordinal));
        }

        return $"public {kind} {TypeName(type)}" + (bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty);
    }

    private static bool IsVisible(MemberInfo member) => member switch
    {
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
        EventInfo e => e.AddMethod is { } add && (add.IsPublic || add.IsFamily || add.IsFamilyOrAssembly),
        _ => false,
    };

    private static string? Describe(MemberInfo member, string prefix, NullabilityInfoContext context)
    {
        switch (member)
        {
            case ConstructorInfo constructor:
                return $"{Access(constructor)}{(constructor.IsStatic ? "static " : string.Empty)}{prefix}.ctor({Parameters(constructor, context)})";
            case MethodInfo method when !method.IsSpecialName || method.Name.StartsWith("op_", StringComparison.Ordinal):
                string generic = method.IsGenericMethodDefinition ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">" : string.Empty;
                return $"{Access(method)}{Modifiers(method)}{prefix}{method.Name}{generic}({Parameters(method, context)}) -> {TypeName(method.ReturnType, context.Create(method.ReturnParameter))}";
            case PropertyInfo property:
                MethodInfo accessor = property.GetMethod ?? property.SetMethod!;
                string index = property.GetIndexParameters().Length > 0 ? "[" + Parameters(property.GetIndexParameters(), context) + "]" : string.Empty;
                string set = property.SetMethod is { } setter && IsVisible(setter)
                    ? setter.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.FullName == "System.Runtime.CompilerServices.IsExternalInit") ? " init;" : " set;"
                    : string.Empty;
                string get = property.GetMethod is { } getter && IsVisible(getter) ? " get;" : string.Empty;
                return $"{Access(accessor)}{Modifiers(accessor)}{prefix}{property.Name}{index} {{{get}{set} }} -> {TypeName(property.PropertyType, context.Create(property))}";
            case FieldInfo field:
                string value = field.IsLiteral ? " = " + Literal(field.GetRawConstantValue()) : string.Empty;
                string kind = field.IsLiteral ? "const " : (field.IsStatic ? "static " : string.Empty) + (field.IsInitOnly ? "readonly " : string.Empty);
                return $"{Access(field)}{kind}{prefix}{field.Name} -> {TypeName(field.FieldType, context.Create(field))}{value}";
            case EventInfo @event:
                return $"{Access(@event.AddMethod!)}{Modifiers(@event.AddMethod!)}event {prefix}{@event.Name} -> {TypeName(@event.EventHandlerType!, context.Create(@event))}";
            default:
                return null;
        }
    }

    private static bool IsVisible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static string Access(MethodBase method) => method.IsPublic ? string.Empty : "protected ";

    private static string Access(FieldInfo field) => field.IsPublic ? string.Empty : "protected ";

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic)
        {
            return "static ";
        }

        if (method.DeclaringType!.IsInterface)
        {
            return method.IsAbstract ? string.Empty : "virtual ";
        }

        if (method.IsAbstract)
        {
            return "abstract ";
        }

        if (method.IsVirtual && !method.IsFinal)
        {
            return method.GetBaseDefinition() != method ? "override " : "virtual ";
        }

        return method.IsVirtual && method.GetBaseDefinition() != method ? "sealed override " : string.Empty;
    }

    private static string Parameters(MethodBase method, NullabilityInfoContext context) => Parameters(method.GetParameters(), context);

    private static string Parameters(ParameterInfo[] parameters, NullabilityInfoContext context) => string.Join(", ", parameters.Select(p =>
    {
        Type type = p.ParameterType;
        string prefix = string.Empty;
        if (type.IsByRef)
        {
            prefix = p.IsOut ? "out " : p.IsIn ? "in " : "ref ";
            type = type.GetElementType()!;
        }
        else if (p.IsDefined(typeof(ParamArrayAttribute)))
        {
            prefix = "params ";
        }

        string text = $"{prefix}{TypeName(type, context.Create(p))} {p.Name}";
        return p.HasDefaultValue ? $"{text} = {Literal(p.DefaultValue)}" : text;
    }));

    private static string Literal(object? value) => value switch
    {
        null => "default",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        char c => "'" + c + "'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string TypeName(Type type) => TypeName(type, nullability: null);

    private static string TypeName(Type type, NullabilityInfo? nullability)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, nullability) + "&";
        }

        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!, nullability?.ElementType) + "[" + new string(',', type.GetArrayRank() - 1) + "]" + Nullable(nullability);
        }

        if (type.IsPointer)
        {
            return TypeName(type.GetElementType()!) + "*";
        }

        if (type.IsGenericParameter)
        {
            return type.Name + Nullable(nullability);
        }

        if (System.Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying) + "?";
        }

        string? keyword = Keyword(type);
        if (keyword is not null)
        {
            return keyword + (type.IsValueType ? string.Empty : Nullable(nullability));
        }

        string name = type.IsNested ? TypeName(type.DeclaringType!) + "." + type.Name : type.Namespace + "." + type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }

        if (type.IsGenericType)
        {
            Type[] arguments = type.GetGenericArguments();
            NullabilityInfo[]? argumentNullability = nullability?.GenericTypeArguments;
            name += "<" + string.Join(", ", arguments.Select((a, i) => TypeName(a, argumentNullability is { } n && i < n.Length ? n[i] : null))) + ">";
        }

        return name + (type.IsValueType ? string.Empty : Nullable(nullability));
    }

    private static string Nullable(NullabilityInfo? nullability) => nullability?.ReadState == NullabilityState.Nullable ? "?" : string.Empty;

    private static string? Keyword(Type type) => type.FullName switch
    {
        "System.Void" => "void",
        "System.Object" => "object",
        "System.String" => "string",
        "System.Boolean" => "bool",
        "System.Byte" => "byte",
        "System.SByte" => "sbyte",
        "System.Int16" => "short",
        "System.UInt16" => "ushort",
        "System.Int32" => "int",
        "System.UInt32" => "uint",
        "System.Int64" => "long",
        "System.UInt64" => "ulong",
        "System.Single" => "float",
        "System.Double" => "double",
        "System.Decimal" => "decimal",
        "System.Char" => "char",
        "System.IntPtr" => "nint",
        "System.UIntPtr" => "nuint",
        _ => null,
    };
}
