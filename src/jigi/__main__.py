from jigi.cli import main

main()
