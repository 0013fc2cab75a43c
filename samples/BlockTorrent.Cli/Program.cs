// The blocktorrent command line. Commands are added by the samples issue.
Console.Error.WriteLine("blocktorrent: no commands are available yet.");
return 64;
