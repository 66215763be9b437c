// Painmap's small amount of client code. No framework; htmx does the requests.
"use strict";
