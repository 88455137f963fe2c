console.log("ft");
