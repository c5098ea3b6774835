"""napari/Qt front end: thin dock widgets over the Qt-free core."""
