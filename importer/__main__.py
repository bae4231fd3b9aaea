from importer.cli import command_line

command_line()
